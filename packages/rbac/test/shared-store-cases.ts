/**
 * The checks every shared emergency store must pass (issue 19 §3), whatever holds the grants
 * (PostgreSQL, Redis): the store-specific test files open two instances and call these.
 */
import type { manualClock } from '@safeguards/core'
import { expect } from 'vitest'
import type { LinePeer } from '../../../scripts/test-support/line-peer.js'
import type { DecisionPoint, EmergencyGrant, SharedEmergencyStore } from '../src/index.js'
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
