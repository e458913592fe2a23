/**
 * Signing and verifying an evidence report: a compact JWS (EdDSA / Ed25519, with `kid`) over its
 * canonical JSON (RFC 8785, core's `canonicalize`).
 *
 * @module
 */
import { canonicalize, parseJson } from '@safeguards/core'
import { CompactSign, compactVerify, errors, importJWK, type JWK } from 'jose'
import { EvidenceError } from './errors.js'
import type { EvidenceReport } from './evidence.js'

/** The JWS `typ` header of a signed evidence report. */
export const EVIDENCE_JWS_TYPE = 'safeguards-evidence+jws'

async function importKey(jwk: JWK, wantPrivate: boolean): Promise<CryptoKey | Uint8Array> {
  if (jwk === null || typeof jwk !== 'object' || jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519')
    throw new EvidenceError('ERR_EVIDENCE_KEY', 'expected an Ed25519 JWK (kty OKP, crv Ed25519)')
  if (wantPrivate && typeof jwk.d !== 'string')
    throw new EvidenceError('ERR_EVIDENCE_KEY', 'expected a private JWK (with d)')
  const { d: _d, ...pub } = jwk
  try {
    return await importJWK(wantPrivate ? jwk : pub, 'EdDSA')
  } catch (e) {
    throw new EvidenceError('ERR_EVIDENCE_KEY', 'the JWK cannot be imported', { cause: e })
  }
}

/**
 * Signs the report as a compact JWS (`alg` EdDSA, `typ` {@link EVIDENCE_JWS_TYPE}, `kid`) over
 * its canonical JSON (RFC 8785, core's `canonicalize`).
 *
 * HIPAA: 164.316(b)(1) documentation (the record is attributable and tamper-evident).
 *
 * @hipaa 164.316(b)(1) supports
 * @evidence a JWS over the canonical evidence report, with the signing key's kid
 * @appResponsibility Keep the signing key apart from the systems it reports on; publish its public JWK to auditors.
 * @verifiedBy packages/controls/test/evidence.test.ts
 * @throws {EvidenceError} `ERR_EVIDENCE_KEY` when the key is not a private Ed25519 JWK or the kid is empty.
 * @example
 * ```ts
 * const jws = await signEvidence(report, privateJwk, 'evidence-2026')
 * ```
 */
export async function signEvidence(report: EvidenceReport, privateJwk: JWK, kid?: string): Promise<string> {
  const keyId = kid ?? privateJwk?.kid
  if (typeof keyId !== 'string' || keyId === '' || keyId.length > 256)
    throw new EvidenceError('ERR_EVIDENCE_KEY', 'a kid (1-256 characters) is required')
  const key = await importKey(privateJwk, true)
  return new CompactSign(new TextEncoder().encode(canonicalize(report)))
    .setProtectedHeader({ alg: 'EdDSA', typ: EVIDENCE_JWS_TYPE, kid: keyId })
    .sign(key)
}

/** The verdict of {@link verifyEvidence}. */
export type EvidenceVerifyResult =
  | { valid: true; kid: string; report: EvidenceReport }
  | { valid: false; reason: 'malformed' | 'signature' | 'kid' | 'not-canonical' }

/**
 * Verifies a signed evidence report with the public JWK. A bad signature, a different `kid`
 * (when the JWK has one), or a payload that is not the canonical JSON is a `valid: false` verdict.
 *
 * HIPAA: 164.316(b)(1) documentation, 164.308(a)(8) evaluation.
 *
 * @hipaa 164.316(b)(1) supports
 * @evidence the auditor's independent check of a signed evidence report
 * @appResponsibility Obtain the public JWK through a channel you trust.
 * @verifiedBy packages/controls/test/evidence.test.ts
 * @throws {EvidenceError} `ERR_EVIDENCE_KEY` when the key is not an Ed25519 JWK.
 * @example
 * ```ts
 * const v = await verifyEvidence(jws, publicJwk)
 * if (v.valid) console.log(v.report.ok)
 * ```
 */
export async function verifyEvidence(jws: string, publicJwk: JWK): Promise<EvidenceVerifyResult> {
  const key = await importKey(publicJwk, false)
  if (
    typeof jws !== 'string' ||
    jws.length > 16 * 1024 * 1024 ||
    !/^[\w-]+\.[\w-]+\.[\w-]+$/.test(jws.trim())
  )
    return { valid: false, reason: 'malformed' }
  let payload: Uint8Array
  let kid: unknown
  try {
    const r = await compactVerify(jws.trim(), key, { algorithms: ['EdDSA'] })
    payload = r.payload
    kid = r.protectedHeader.kid
    if (r.protectedHeader.typ !== EVIDENCE_JWS_TYPE) return { valid: false, reason: 'malformed' }
  } catch (e) {
    return {
      valid: false,
      reason: e instanceof errors.JWSSignatureVerificationFailed ? 'signature' : 'malformed',
    }
  }
  if (typeof kid !== 'string' || (typeof publicJwk.kid === 'string' && publicJwk.kid !== kid))
    return { valid: false, reason: 'kid' }
  const text = new TextDecoder().decode(payload)
  let report: unknown
  try {
    report = parseJson(text)
  } catch {
    return { valid: false, reason: 'malformed' }
  }
  if (canonicalize(report) !== text) return { valid: false, reason: 'not-canonical' }
  if ((report as { schemaVersion?: unknown } | null)?.schemaVersion !== 2)
    return { valid: false, reason: 'malformed' }
  return { valid: true, kid, report: report as EvidenceReport }
}
