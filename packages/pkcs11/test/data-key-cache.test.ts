/**
 * An envelope's data-key cache over the HSM provider: a key-state change in the token (made
 * through this provider, or by another host) stops cached data keys, through `stateEpoch`.
 */
import { manualClock, utf8Encode } from '@safeguards/core'
import { createEnvelope, KeyUnavailableError } from '@safeguards/envelope'
import { expect, it } from 'vitest'
import type { Pkcs11KekProvider } from '../src/index.js'
import { describeHsm, useSoftHsm } from './softhsm.js'

const context = { table: 'notes', column: 'body', row: '77' }
const record = utf8Encode('{"note":"cached through the token"}')

/** Counts the provider's unwraps, so a test can tell a cache hit from a trip to the token. */
function counting(kek: Pkcs11KekProvider): { unwraps: () => number } {
  let n = 0
  const unwrap = kek.unwrap.bind(kek)
  kek.unwrap = (edk, keyRef, aad) => {
    n++
    return unwrap(edk, keyRef, aad)
  }
  return { unwraps: () => n }
}

async function settle(kek: Pkcs11KekProvider): Promise<void> {
  // Let a background read started by stateEpoch() finish (it runs on a libuv worker thread).
  for (let i = 0; i < 50; i++) {
    const before = kek.stateEpoch()
    await new Promise((r) => setTimeout(r, 20))
    if (kek.stateEpoch() === before) return
  }
}

describeHsm('data-key cache over Pkcs11KekProvider', () => {
  const clock = manualClock(Date.UTC(2026, 10, 22, 12))
  let app: Pkcs11KekProvider
  let admin: Pkcs11KekProvider

  useSoftHsm(['cache'], async (h, open) => {
    // The application's provider reads the token state at most every 5 s (the default); the
    // administrator's is another host's view of the same token.
    app = await open(h.options('cache', 'notes', { clock, cacheTtlMs: 5000 }))
    admin = await open(h.options('cache', 'notes', { clock, cacheTtlMs: 0 }))
    await admin.rotate()
    await admin.rotate()
    await app.refresh()
  })

  it('a lifecycle change through the same provider stops cached keys at once', async () => {
    const envelope = createEnvelope({ provider: app, dataKeyCache: { clock } })
    const ct = await envelope.encrypt(record, context)
    const probe = counting(app)
    expect(await envelope.decrypt(ct, context)).toEqual(record)
    expect(await envelope.decrypt(ct, context)).toEqual(record)
    const hitsBefore = probe.unwraps()
    expect(await envelope.decrypt(ct, context)).toEqual(record)
    expect(probe.unwraps()).toBe(hitsBefore) // served from the cache

    const epoch = app.stateEpoch()
    await app.rotate() // v3 primary; v2 (which wrapped ct) decrypt-only
    expect(app.stateEpoch()).not.toBe(epoch)
    expect(await envelope.decrypt(ct, context)).toEqual(record)
    expect(probe.unwraps()).toBe(hitsBefore + 1) // the cache was dropped: one trip to the token
    await app.disable(2)
    const error = await envelope.decrypt(ct, context).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(KeyUnavailableError)
    expect((error as KeyUnavailableError).reason).toBe('disabled')
    await app.enable(2)
    envelope.close()
  })

  it('a change by another host stops cached keys within cacheTtlMs, even when every decrypt hits', async () => {
    const envelope = createEnvelope({ provider: app, dataKeyCache: { clock } })
    const ct = await envelope.encrypt(record, context) // under the current primary, v3
    expect(await envelope.decrypt(ct, context)).toEqual(record)
    await app.refresh()
    await admin.disable(1) // unrelated version: the epoch moves, the cache refills on demand
    await admin.rotate() // v4 primary, v3 decrypt-only
    await admin.disable(3) // another host disables the version that wrapped ct

    // Within the TTL the application has not looked: the cached key still decrypts (documented).
    expect(await envelope.decrypt(ct, context)).toEqual(record)
    clock.advance(5000)
    app.stateEpoch() // a lookup past the TTL starts a background read of the token
    await settle(app)
    const error = await envelope.decrypt(ct, context).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(KeyUnavailableError)
    expect((error as KeyUnavailableError).keyRef).toBe('pkcs11:notes@v3')
    envelope.close()
  })
})
