/**
 * The checks every shared emergency store must pass (issue 19 §3), whatever holds the grants
 * (PostgreSQL, Redis): the store-specific test files call `describeSharedStore` with a way to open
 * an instance and add their own cases.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { resolve } from 'node:path'
import type { manualClock } from '@safeguards/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type LinePeer, startLinePeer } from '../../../scripts/test-support/line-peer.js'
import {
  type DecisionPoint,
  type EmergencyGrant,
  isSharedEmergencyStore,
  type SharedEmergencyStore,
} from '../src/index.js'
import { emergencyRequest, req, who } from './helpers.js'

/** One app instance: a decision point on a shared store, with its own manual clock. */
export interface SharedInstance {
  pdp: DecisionPoint
  store: SharedEmergencyStore
  clock: ReturnType<typeof manualClock>
}

/** The emergency read the grants of these tests cover. */
export const readP2 = (grant: string): ReturnType<typeof req> =>
  req(who.nurse, 'read', 'Observation', { patient: 'p-2' }, { emergencyAccess: grant })

/** Waits until `done()`; the time it took, ms. */
export async function until(what: string, done: () => boolean, ms = 2000): Promise<number> {
  const t0 = performance.now()
  while (!done()) {
    if (performance.now() - t0 > ms) throw new Error(`${what} not seen within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 1))
  }
  return performance.now() - t0
}

/** Five grants made on `a`, each revoked once `b` honours it; `b`'s delays, sorted. */
export async function grantDelays(a: SharedInstance, b: SharedInstance): Promise<number[]> {
  const delays: number[] = []
  for (let i = 0; i < 5; i++) {
    const g = await a.pdp.emergency.grantAsync(emergencyRequest())
    delays.push(await until('grant', () => b.pdp.decide(readP2(g.id)).reason === 'emergency_access'))
    await a.pdp.emergency.revokeAsync(g.id, 'u-adm')
    await until('revocation', () => b.pdp.decide(readP2(g.id)).reason !== 'emergency_access')
  }
  return delays.sort((x, y) => x - y)
}

/** A grant expires on both instances at its deadline, with no message between them. */
export async function expectExpiryEverywhere(a: SharedInstance, b: SharedInstance): Promise<void> {
  const g = await a.pdp.emergency.grantAsync(emergencyRequest({ minutes: 5 }))
  await b.store.fetch(g.id)
  for (const x of [a, b]) x.clock.set(g.expiresAt - 1)
  expect(a.pdp.decide(readP2(g.id)).reason).toBe('emergency_access')
  expect(b.pdp.decide(readP2(g.id)).reason).toBe('emergency_access')
  for (const x of [a, b]) x.clock.set(g.expiresAt)
  expect(a.pdp.decide(readP2(g.id)).reason).toBe('no_matching_allow')
  expect(b.pdp.decide(readP2(g.id)).reason).toBe('no_matching_allow')
  expect(b.pdp.emergency.pendingReviews().map((x) => x.id)).toContain(g.id)
}

/**
 * 20 concurrent reviews of one revoked grant, alternating between `a` and `b`: exactly one wins,
 * the others fail with ERR_RBAC_EMERGENCY_STATE. The grant and the winning reviewer.
 */
export async function concurrentReviews(
  a: SharedInstance,
  b: SharedInstance,
): Promise<{ grant: EmergencyGrant; reviewer: string }> {
  const grant = await a.pdp.emergency.grantAsync(emergencyRequest())
  await a.pdp.emergency.revokeAsync(grant.id, 'u-adm')
  const outcomes = await Promise.allSettled(
    Array.from({ length: 20 }, (_, i) =>
      (i % 2 === 0 ? a : b).pdp.emergency.reviewAsync(grant.id, {
        reviewer: `u-rev${i}`,
        outcome: 'appropriate',
        notes: 'Checked against the ED record.',
      }),
    ),
  )
  const won = outcomes.filter((o) => o.status === 'fulfilled')
  expect(won).toHaveLength(1)
  for (const o of outcomes)
    if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: 'ERR_RBAC_EMERGENCY_STATE' })
  return { grant, reviewer: (won[0] as PromiseFulfilledResult<EmergencyGrant>).value.review?.reviewer ?? '' }
}

/** The synchronous registry methods refuse a shared store. */
export function expectSyncRefused(a: SharedInstance): void {
  const state = expect.objectContaining({ code: 'ERR_RBAC_EMERGENCY_STATE' })
  expect(a.store.shared).toBe(true)
  expect(() => a.pdp.emergency.grant(emergencyRequest())).toThrow(state)
  expect(() => a.store.set({} as never)).toThrow(state)
}

/**
 * A grant made by a peer process killed with SIGKILL is revoked from `a`, then still awaits review
 * in a restarted peer, which reviews it; `a` sees the review within 2 s.
 */
export async function expectGrantSurvivesKill(
  start: () => Promise<LinePeer>,
  a: SharedInstance,
): Promise<void> {
  const first = await start()
  const { result: id } = (await first.ask('grant', emergencyRequest())) as { result: string }
  expect(await first.ask('decide', readP2(id))).toEqual({ result: 'emergency_access' })
  const exited = new Promise((res) => first.child.on('exit', (_code, signal) => res(signal)))
  first.child.kill('SIGKILL')
  expect(await exited).toBe('SIGKILL')
  await a.pdp.emergency.revokeAsync(id, 'u-adm') // seen from here, though its maker is gone
  const second = await start()
  expect(((await second.ask('pending')) as { result: string[] }).result).toContain(id)
  const review = { reviewer: 'u-priv', outcome: 'appropriate', notes: 'ok' }
  expect(await second.ask('review', { id, review })).toEqual({ result: 'u-priv' })
  await until('review', () => !a.pdp.emergency.pendingReviews().some((g) => g.id === id))
}

/** What a store-specific test file gives `describeSharedStore`. */
export interface SharedStoreSuite<I extends SharedInstance> {
  /** Opens one more app instance on the shared store. */
  instance: () => Promise<I>
  /** The peer process of the SIGKILL test: its file under test/fixtures and its arguments. */
  peer: { fixture: string; args: string[] }
  /**
   * Runs the 20 concurrent reviews (`run`) and checks that the store holds exactly the winning
   * review, in the store's own representation.
   */
  expectOneReviewStored: (run: () => ReturnType<typeof concurrentReviews>) => Promise<void>
  /** The store's own cases, registered inside the suite; `ab()` gives its two instances. */
  more?: (ab: () => { a: I; b: I }) => void
}

/**
 * The suite every shared store passes: two instances `a` and `b`; cross-instance grants and
 * revocations, expiry, concurrent reviews, the refused synchronous methods, and a grant that
 * survives SIGKILL and a restart, then the store's own cases.
 */
export function describeSharedStore<I extends SharedInstance>(
  name: string,
  suite: SharedStoreSuite<I>,
): void {
  describe(name, () => {
    let a: I
    let b: I
    beforeAll(async () => {
      a = await suite.instance()
      b = await suite.instance()
    })

    it('a grant made on A is honoured on B (five grants, each seen), and each revocation too', async () => {
      // Behaviour, not speed: each grant and revocation is seen (grantDelays fails after 2 s). The
      // delay is a figure, printed for the record (the 100 ms of the issue is a benchmark's job).
      const delays = await grantDelays(a, b)
      expect(delays).toHaveLength(5)
      console.log(`grant seen on B after ${delays.map((d) => d.toFixed(1)).join(' / ')} ms`)
    })

    it('a grant expires on every instance at its deadline (no message needed)', async () => {
      await expectExpiryEverywhere(a, b)
    })

    it('20 concurrent reviews of one grant, on two instances, store exactly one', async () => {
      await suite.expectOneReviewStored(() => concurrentReviews(a, b))
    })

    it('refuses the synchronous methods (they cannot be atomic across instances)', () => {
      expect(isSharedEmergencyStore(a.store)).toBe(true)
      expectSyncRefused(a)
    })

    suite.more?.(() => ({ a, b }))

    describe('SIGKILL and a restart', () => {
      const peers: ChildProcessWithoutNullStreams[] = []
      const start = async (): Promise<LinePeer> => {
        const peer = startLinePeer(
          resolve(import.meta.dirname, 'fixtures', suite.peer.fixture),
          suite.peer.args,
          resolve(import.meta.dirname, '..'),
        )
        peers.push(peer.child)
        await peer.ready
        return peer
      }
      afterAll(() => {
        for (const p of peers) p.kill('SIGKILL')
      })

      it('a grant made by a killed instance still awaits review after a restart', async () => {
        await expectGrantSurvivesKill(start, a)
      }, 60_000)
    })
  })
}
