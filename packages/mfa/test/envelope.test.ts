/**
 * Integration: TOTP secrets sealed through @safeguards/envelope (createEnvelope over an in-memory
 * LocalKeyring), which has exactly the SecretSealer shape.
 */

import { manualClock } from '@safeguards/core'
import { createEnvelope, EnvelopeDecryptionError, LocalKeyring } from '@safeguards/envelope'
import { describe, expect, it } from 'vitest'
import {
  createMemoryStore,
  createTotpAuthenticator,
  type SecretSealer,
  secretFromBase32,
  totpCode,
  totpSealContext,
} from '../src/index.js'

describe('sealing through @safeguards/envelope', () => {
  it('enrolls, verifies and refuses replays with secrets sealed by an envelope', async () => {
    const keyring = await LocalKeyring.inMemory()
    const sealer: SecretSealer = createEnvelope({ provider: keyring })
    const clock = manualClock(Date.UTC(2026, 10, 22, 9, 0, 1))
    const store = createMemoryStore({ clock })
    const mfa = createTotpAuthenticator({ store, sealer, issuer: 'Acme Clinic', clock })
    const e = await mfa.beginEnrollment('u-1', 'jane@acme.org')
    const secret = secretFromBase32(e.manualKey.reveal())
    expect(
      (await mfa.confirmEnrollment('u-1', e.credentialId, totpCode({ secret, time: clock.now() }))).valid,
    ).toBe(true)
    clock.advance(30_000)
    const code = totpCode({ secret, time: clock.now() })
    expect((await mfa.verify('u-1', code)).valid).toBe(true)
    expect(await mfa.verify('u-1', code)).toEqual({ valid: false, reason: 'replayed' })
    // The stored record holds an envelope ciphertext, not the secret.
    expect(await store.get('cred:u-1')).not.toContain(e.manualKey.reveal())
  })

  it('binds the ciphertext to the user and the credential', async () => {
    const sealer: SecretSealer = createEnvelope({ provider: await LocalKeyring.inMemory() })
    const secret = new Uint8Array(20).fill(7)
    const sealed = await sealer.encrypt(secret, totpSealContext('u-1', 'c-1'))
    expect(await sealer.decrypt(sealed, totpSealContext('u-1', 'c-1'))).toEqual(secret)
    await expect(sealer.decrypt(sealed, totpSealContext('u-2', 'c-1'))).rejects.toBeInstanceOf(
      EnvelopeDecryptionError,
    )
    await expect(sealer.decrypt(sealed, totpSealContext('u-1', 'c-2'))).rejects.toBeInstanceOf(
      EnvelopeDecryptionError,
    )
  })
})
