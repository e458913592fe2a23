/**
 * Session data (issue 19 §2), the behaviour every store with `update` must show: kept with the
 * session, validated and size-capped, kept on rotation, gone with the session, never in events.
 * Run against the in-memory store here and against Redis in @safeguards/session-redis.
 */
import { manualClock, type SafeguardEvent } from '@safeguards/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  createSessionManager,
  SessionConfigError,
  SessionDataError,
  type SessionStore,
} from '../src/index.js'
import { T0 } from './store-contract.js'

const MIN = 60_000
export const schema = z.object({
  tenant: z.string().min(1).max(64),
  csrf: z.string().length(43).optional(),
  mfaAt: z.number().int().optional(),
  note: z.string().max(5000).optional(),
})
const CSRF = 'c'.repeat(43)

export function sessionDataContract(
  name: string,
  makeStore: () => SessionStore | Promise<SessionStore>,
): void {
  describe(`${name}: session data`, () => {
    async function setup(maxBytes?: number) {
      const clock = manualClock(T0)
      const events: SafeguardEvent[] = []
      const sessions = createSessionManager({
        store: await makeStore(),
        clock,
        idleTimeoutMs: 15 * MIN,
        absoluteTimeoutMs: 8 * 60 * MIN,
        data: { schema, ...(maxBytes === undefined ? {} : { maxBytes }) },
        events: (e) => {
          events.push(e)
        },
      })
      return { clock, events, sessions }
    }

    it('create stores data; validate returns a fresh parsed copy each time', async () => {
      const { sessions } = await setup()
      const { token, session } = await sessions.create('u-data', { data: { tenant: 't-1', csrf: CSRF } })
      expect(session.data).toEqual({ tenant: 't-1', csrf: CSRF })
      const a = await sessions.validate(token)
      expect(a?.data).toEqual({ tenant: 't-1', csrf: CSRF })
      ;(a?.data as { tenant: string }).tenant = 'mutated'
      expect((await sessions.validate(token))?.data?.tenant).toBe('t-1')
    })

    it('a session created without data has none; update adds, replaces and removes it', async () => {
      const { sessions } = await setup()
      const { token } = await sessions.create('u-update')
      expect((await sessions.validate(token))?.data).toBeUndefined()
      expect((await sessions.update(token, { tenant: 't-2' }))?.data).toEqual({ tenant: 't-2' })
      expect((await sessions.validate(token))?.data).toEqual({ tenant: 't-2' })
      await sessions.update(token, { tenant: 't-3', mfaAt: T0 })
      expect((await sessions.validate(token))?.data).toEqual({ tenant: 't-3', mfaAt: T0 })
      expect((await sessions.update(token, undefined))?.data).toBeUndefined()
      expect((await sessions.validate(token))?.data).toBeUndefined()
    })

    it('update is not activity: it does not move the idle deadline', async () => {
      const { clock, sessions } = await setup()
      const { token } = await sessions.create('u-idle', { data: { tenant: 't' } })
      clock.advance(15 * MIN - 1)
      expect(await sessions.update(token, { tenant: 'u' })).not.toBeNull()
      clock.advance(1)
      expect(await sessions.validate(token)).toBeNull()
    })

    it('rotation, privilege change and reauthentication keep the data; the old token has none', async () => {
      const { sessions } = await setup()
      const first = await sessions.create('u-rotate', { data: { tenant: 't-r', csrf: CSRF } })
      const second = await sessions.rotate(first.token)
      expect(second?.session.data).toEqual({ tenant: 't-r', csrf: CSRF })
      const third = await sessions.rotate(second?.token, { role: null })
      const fourth = await sessions.reauthenticate(third?.token)
      expect((await sessions.validate(fourth?.token))?.data).toEqual({ tenant: 't-r', csrf: CSRF })
      expect(await sessions.validate(first.token)).toBeNull()
      expect(await sessions.update(first.token, { tenant: 'x' })).toBeNull()
    })

    it('update never revives a revoked, expired or unknown session', async () => {
      const { clock, events, sessions } = await setup()
      const a = await sessions.create('u-gone', { data: { tenant: 't' } })
      await sessions.revoke(a.token)
      expect(await sessions.update(a.token, { tenant: 'back' })).toBeNull()
      expect(await sessions.validate(a.token)).toBeNull()
      const b = await sessions.create('u-gone', { data: { tenant: 't' } })
      clock.advance(15 * MIN)
      expect(await sessions.update(b.token, { tenant: 'late' })).toBeNull()
      expect(events.filter((e) => e.type === 'session.expired.idle')).toHaveLength(1)
      expect(await sessions.update(`${'A'.repeat(42)}E`, { tenant: 'x' })).toBeNull()
      expect(await sessions.update('not a token', { tenant: 'x' })).toBeNull()
    })

    it('refuses data that fails the schema, naming the path and never the value', async () => {
      const { sessions } = await setup()
      const secret = 'SSN-123-45-6789'
      const err = await sessions.create('u-bad', { data: { tenant: 7 as unknown as string } }).catch((e) => e)
      expect(err).toBeInstanceOf(SessionDataError)
      expect(err.code).toBe('ERR_SESSION_DATA')
      expect(err.message).toContain('tenant')
      const { token } = await sessions.create('u-bad', { data: { tenant: 't' } })
      const bad = { tenant: 't', csrf: secret } // wrong length: refused
      const e2 = await sessions.update(token, bad).catch((e) => e)
      expect(e2).toBeInstanceOf(SessionDataError)
      expect(e2.message).toContain('csrf')
      expect(e2.message).not.toContain(secret)
      expect((await sessions.validate(token))?.data).toEqual({ tenant: 't' }) // unchanged
    })

    it('caps the stored JSON in UTF-8 bytes (a multi-byte value counts its bytes)', async () => {
      const { sessions } = await setup(64)
      const { token } = await sessions.create('u-cap', { data: { tenant: 't' } })
      const fits = { tenant: 'é'.repeat(24) } // {"tenant":""} is 13 bytes + 48 = 61
      expect((await sessions.update(token, fits))?.data).toEqual(fits)
      const over = { tenant: 'é'.repeat(26) } // 65 bytes
      await expect(sessions.update(token, over)).rejects.toMatchObject({ code: 'ERR_SESSION_DATA' })
      expect((await sessions.validate(token))?.data).toEqual(fits)
    })

    it('round-trips any JSON-safe text through the store (property)', async () => {
      const { sessions } = await setup()
      const { token } = await sessions.create('u-prop', { data: { tenant: 't' } })
      await fc.assert(
        fc.asyncProperty(
          fc.string({ unit: 'grapheme', minLength: 1, maxLength: 64 }),
          fc.string({ maxLength: 200 }),
          async (tenant, note) => {
            const data = { tenant, note }
            expect((await sessions.update(token, data))?.data).toEqual(data)
            expect((await sessions.validate(token, { activity: false }))?.data).toEqual(data)
          },
        ),
        { numRuns: 60 },
      )
    })

    it('never writes data to events', async () => {
      const { events, sessions } = await setup()
      const marker = 'tenant-marker-4f1c'
      const a = await sessions.create('u-ev', { data: { tenant: marker, csrf: CSRF } })
      const b = await sessions.rotate(a.token)
      await sessions.update(b?.token, { tenant: marker, note: marker })
      await sessions.revoke(b?.token)
      expect(events.length).toBeGreaterThanOrEqual(3)
      const text = JSON.stringify(events)
      expect(text).not.toContain(marker)
      expect(text).not.toContain(CSRF)
    })

    it('a manager without a data schema refuses data', async () => {
      const plain = createSessionManager({ store: await makeStore(), clock: manualClock(T0) })
      await expect(plain.create('u', { data: { tenant: 't' } })).rejects.toBeInstanceOf(SessionConfigError)
      const { token } = await plain.create('u')
      await expect(plain.update(token, { tenant: 't' })).rejects.toBeInstanceOf(SessionConfigError)
    })
  })
}
