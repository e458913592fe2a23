import {
  base64urlToBytes,
  bytesToBase64url,
  canonicalBytes,
  hmac,
  utf8Decode,
  utf8Encode,
} from '@safeguards/core'
import { CompactSign } from 'jose'
import { describe, expect, it } from 'vitest'
import {
  ATTESTATION_TYPE,
  type AttestationPayload,
  attestationDigest,
  decodeAttestationUnverified,
  generateSigningKeyPair,
  importSigningKey,
  importVerificationKeys,
  signAttestation,
  verifyAttestation,
} from '../src/index.js'

const payload: AttestationPayload = {
  typ: 'safeguards.backup.attestation',
  v: 1,
  bagId: 'b1',
  backupSetId: 'nightly',
  seq: 1,
  prev: null,
  createdAt: '2026-11-22T02:00:00.000Z',
  tagManifests: { sha512: 'a'.repeat(128), sha256: 'b'.repeat(64) },
  payloadOxum: '10.1',
  encrypted: false,
}

const b64 = (o: unknown): string => bytesToBase64url(utf8Encode(JSON.stringify(o)))

async function setup() {
  const { privateJwk, publicJwk } = await generateSigningKeyPair('EdDSA', 'k1')
  const signingKey = await importSigningKey(privateJwk)
  const keys = await importVerificationKeys(publicJwk)
  return { signingKey, keys, publicJwk, privateJwk }
}

describe('attestation', () => {
  it('signs and verifies; the digest is SHA-256 of the compact form', async () => {
    const { signingKey, keys } = await setup()
    const jws = await signAttestation(payload, signingKey)
    const check = await verifyAttestation(jws, keys)
    expect(check).toMatchObject({ valid: true, kid: 'k1', alg: 'Ed25519', payload })
    expect(check.valid && check.digest).toBe(attestationDigest(jws))
    expect(decodeAttestationUnverified(jws)).toEqual(payload)
  })

  it('signs Ed25519 keys as alg Ed25519 (RFC 9864), whatever name the JWK gives, and verifies both names', async () => {
    const { privateJwk, keys } = await setup()
    expect(privateJwk.alg).toBe('Ed25519')
    for (const alg of [undefined, 'Ed25519', 'EdDSA']) {
      const { alg: _alg, ...bare } = privateJwk
      const signingKey = await importSigningKey(alg === undefined ? bare : { ...bare, alg })
      expect(signingKey.alg).toBe('Ed25519')
      const jws = await signAttestation(payload, signingKey)
      expect(JSON.parse(utf8Decode(base64urlToBytes(jws.split('.')[0]!))).alg).toBe('Ed25519')
      expect(await verifyAttestation(jws, keys)).toMatchObject({ valid: true, alg: 'Ed25519' })
    }
    expect((await generateSigningKeyPair('Ed25519', 'k2')).privateJwk.alg).toBe('Ed25519')
    // an attestation written under the deprecated polymorphic name still verifies
    const signingKey = await importSigningKey(privateJwk)
    const legacy = await new CompactSign(canonicalBytes(payload))
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1', typ: ATTESTATION_TYPE })
      .sign(signingKey.key)
    expect(await verifyAttestation(legacy, keys)).toMatchObject({ valid: true, alg: 'EdDSA' })
    expect((await verifyAttestation(legacy, keys, ['Ed25519'])).valid).toBe(false) // an explicit allow-list rules
  })

  it('refuses alg "none", HS256 keyed with the public key, and RS256 before touching keys', async () => {
    const { keys, publicJwk } = await setup()
    const body = bytesToBase64url(canonicalBytes(payload))
    const none = `${b64({ alg: 'none', kid: 'k1', typ: ATTESTATION_TYPE })}.${body}.`
    expect(await verifyAttestation(none, keys)).toEqual({ valid: false, code: 'E_ALGORITHM_NOT_ALLOWED' })
    const header = b64({ alg: 'HS256', kid: 'k1', typ: ATTESTATION_TYPE })
    const mac = hmac('sha256', utf8Encode(JSON.stringify(publicJwk)), utf8Encode(`${header}.${body}`))
    expect(await verifyAttestation(`${header}.${body}.${bytesToBase64url(mac)}`, keys)).toEqual({
      valid: false,
      code: 'E_ALGORITHM_NOT_ALLOWED',
    })
    const rs = `${b64({ alg: 'RS256', kid: 'k1', typ: ATTESTATION_TYPE })}.${body}.AAAA`
    expect((await verifyAttestation(rs, keys)).valid).toBe(false)
  })

  it('refuses an ES256 header on an Ed25519 key, unknown kids, crit, and a wrong typ', async () => {
    const { keys } = await setup()
    const body = bytesToBase64url(canonicalBytes(payload))
    const es = `${b64({ alg: 'ES256', kid: 'k1', typ: ATTESTATION_TYPE })}.${body}.AAAA`
    expect(await verifyAttestation(es, keys)).toEqual({ valid: false, code: 'E_ALGORITHM_NOT_ALLOWED' })
    const unknown = `${b64({ alg: 'EdDSA', kid: 'zz', typ: ATTESTATION_TYPE })}.${body}.AAAA`
    expect(await verifyAttestation(unknown, keys)).toEqual({ valid: false, code: 'E_UNKNOWN_KEY' })
    const crit = `${b64({ alg: 'EdDSA', kid: 'k1', typ: ATTESTATION_TYPE, crit: ['x'], x: 1 })}.${body}.AAAA`
    expect(await verifyAttestation(crit, keys)).toEqual({ valid: false, code: 'E_ATTESTATION_MALFORMED' })
    const typ = `${b64({ alg: 'EdDSA', kid: 'k1', typ: 'JWT' })}.${body}.AAAA`
    expect(await verifyAttestation(typ, keys)).toEqual({ valid: false, code: 'E_ATTESTATION_MALFORMED' })
  })

  it('a changed payload or signature byte is E_SIGNATURE_INVALID', async () => {
    const { signingKey, keys } = await setup()
    const jws = await signAttestation(payload, signingKey)
    const [h, p, s] = jws.split('.') as [string, string, string]
    const changed = JSON.parse(utf8Decode(base64urlToBytes(p)))
    changed.seq = 99
    expect(await verifyAttestation(`${h}.${bytesToBase64url(canonicalBytes(changed))}.${s}`, keys)).toEqual({
      valid: false,
      code: 'E_SIGNATURE_INVALID',
    })
    const sig = base64urlToBytes(s)
    sig[0] = (sig[0] as number) ^ 1
    expect((await verifyAttestation(`${h}.${p}.${bytesToBase64url(sig)}`, keys)).valid).toBe(false)
  })

  it('a correctly signed but malformed payload is refused', async () => {
    const { signingKey, keys } = await setup()
    for (const bad of [
      { ...payload, seq: 0 },
      { ...payload, seq: 2, prev: null },
      { ...payload, prev: 'c'.repeat(64) },
      { ...payload, createdAt: 'yesterday' },
      { ...payload, extra: 1 },
      { ...payload, tagManifests: { sha512: 'x' } },
    ]) {
      const jws = await new CompactSign(canonicalBytes(bad))
        .setProtectedHeader({ alg: 'EdDSA', kid: 'k1', typ: ATTESTATION_TYPE })
        .sign(signingKey.key)
      expect(await verifyAttestation(jws, keys)).toEqual({ valid: false, code: 'E_ATTESTATION_MALFORMED' })
    }
  })

  it('garbage is malformed, never a throw', async () => {
    const { keys } = await setup()
    for (const bad of ['', 'a.b', 'a.b.c', '!!!.!!!.!!!', 'x'.repeat(70_000), `${b64([1])}.e30.AAAA`]) {
      expect((await verifyAttestation(bad, keys)).valid).toBe(false)
    }
  })

  it('key import: refuses RSA/oct/other curves, missing kid, public key for signing, duplicate kids', async () => {
    const { publicJwk, privateJwk } = await setup()
    await expect(importSigningKey(publicJwk)).rejects.toMatchObject({ code: 'ERR_BACKUP_KEY' })
    await expect(importSigningKey({ ...privateJwk, kid: '' })).rejects.toMatchObject({
      code: 'ERR_BACKUP_KEY',
    })
    await expect(importSigningKey({ kty: 'oct', k: 'AAAA', kid: 'x' })).rejects.toMatchObject({
      code: 'ERR_BACKUP_KEY',
    })
    await expect(importSigningKey({ ...privateJwk, alg: 'ES256' })).rejects.toMatchObject({
      code: 'ERR_BACKUP_KEY',
    })
    await expect(
      importVerificationKeys({ kty: 'EC', crv: 'P-384', x: 'a', y: 'b', kid: 'x' }),
    ).rejects.toMatchObject({
      code: 'ERR_BACKUP_KEY',
    })
    await expect(importVerificationKeys({ keys: [publicJwk, publicJwk] })).rejects.toMatchObject({
      code: 'ERR_BACKUP_KEY',
    })
    // A private JWK given as a verification key is reduced to its public part.
    const keys = await importVerificationKeys(privateJwk)
    expect(keys[0]?.jwk.d).toBeUndefined()
  })
})
