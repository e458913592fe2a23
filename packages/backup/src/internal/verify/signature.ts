/**
 * Stage 2, `signature`: the attestation (allow-listed algorithm, known `kid`), then the tag
 * manifests' digests against it, then every tag file against the tag manifests, then the chain
 * (`seq`, `prev`) against the verifier's state. Only after this are manifest lines trusted.
 *
 * RFC 8493 §5.4: manifests alone do not resist an active attacker (anyone who can change a file
 * can recompute its manifests), so the parties SHOULD agree on more, such as a digital signature:
 * the attestation is that signature, over the two tag manifests.
 *
 * @module
 */
import { sha256Hex } from '@safeguards/core'
import {
  ATTESTATION_FILE,
  type AttestationCheck,
  type AttestationPayload,
  DEFAULT_ALGORITHMS,
  decodeAttestationUnverified,
  verifyAttestation,
} from '../../attestation.js'
import type { VerifyOptions } from '../../verify-options.js'
import type { VerifyState } from '../../verify-state.js'
import { bagInfoValue } from '../tag-files.js'
import { type Ctx, digestHex, hexEqual, type Run, readTag } from './run.js'
import { checkTagCoverage, checkTagFiles } from './tag-manifests.js'

/** Runs the `signature` stage. */
export async function signatureStage(
  ctx: Ctx,
  run: Run,
  options: VerifyOptions,
  state: VerifyState,
  maxTag: number,
): Promise<'passed' | 'skipped'> {
  const read = await readAttestation(ctx, run, options)
  if ('outcome' in read) return read.outcome
  const jws = read.jws
  const keys = options.publicKeys ?? []
  const algorithms = options.algorithms ?? DEFAULT_ALGORITHMS
  if (keys.length === 0) return await checkWithoutKey(jws, run, options)
  const check = await verifyAttestation(jws, keys, algorithms)
  if (!check.valid) {
    run.add(check.code, ATTESTATION_FILE)
    return 'passed'
  }
  ctx.kid = check.kid
  ctx.alg = check.alg
  await checkSignedTagManifests(ctx, run, check.payload, maxTag)
  if (run.failedIn('signature')) return 'passed'
  await checkTagFiles(ctx, run, maxTag)
  checkTagCoverage(ctx, run)
  const infoId = bagInfoValue(ctx.info, 'External-Identifier')
  const infoOxum = bagInfoValue(ctx.info, 'Payload-Oxum')
  if (infoId !== check.payload.bagId || infoOxum !== check.payload.payloadOxum)
    run.add('E_ATTESTATION_MALFORMED', 'bag-info.txt', 'does not match the attestation')
  if (run.failedIn('signature')) return 'passed'
  checkChain(run, check, state)
  if (run.failedIn('signature')) return 'passed'
  ctx.attestation = check.payload
  ctx.attestationDigest = check.digest
  ctx.signed = true
  return 'passed'
}

/**
 * Reads `attestation.jws` (its text, with `ctx.attestationJws` and its SHA-256 set), or returns
 * the stage's outcome when there is none or it is unreadable.
 */
async function readAttestation(
  ctx: Ctx,
  run: Run,
  options: VerifyOptions,
): Promise<{ jws: string } | { outcome: 'passed' | 'skipped' }> {
  const bytes = await readTag(ctx, ATTESTATION_FILE, 64 * 1024)
  if (bytes === 'too-large') {
    run.add('E_ATTESTATION_MALFORMED', ATTESTATION_FILE, 'too large')
    return { outcome: 'passed' }
  }
  // A key means a valid signature by it is required (publicKeys is non-empty when given).
  const signatureRequired = options.requireSignature === true || (options.publicKeys ?? []).length > 0
  if (bytes === null) {
    // Without attestation.jws a bag signed and then stripped looks exactly like an unsigned one:
    // only a verifier that was given a key (or requireSignature) can tell, and it fails here.
    if (signatureRequired) run.add('E_SIGNATURE_MISSING')
    else run.add('W_UNSIGNED')
    return { outcome: signatureRequired ? 'passed' : 'skipped' }
  }
  let jws: string
  try {
    jws = new TextDecoder('utf-8', { fatal: true }).decode(bytes).trim()
  } catch {
    run.add('E_ATTESTATION_MALFORMED', ATTESTATION_FILE)
    return { outcome: 'passed' }
  }
  ctx.attestationJws = jws
  ctx.attestationDigestRaw = sha256Hex(jws)
  return { jws }
}

/**
 * The bag says it is signed (attestation.jws is present), but there is no key to check it.
 * Check everything that needs no key, so a broken claim is not waved through as "unverified":
 * verifyAttestation with no keys runs its key-independent header checks (compact form, typ,
 * crit/b64, allow-listed alg) and then stops at E_UNKNOWN_KEY; the payload is then parsed
 * strictly without trusting it. Nothing read here is used later: the bag stays unsigned.
 */
async function checkWithoutKey(jws: string, run: Run, options: VerifyOptions): Promise<'passed' | 'skipped'> {
  const header = await verifyAttestation(jws, [], options.algorithms ?? DEFAULT_ALGORITHMS)
  const problem = header.valid ? null : header.code === 'E_UNKNOWN_KEY' ? payloadProblem(jws) : header.code
  if (problem !== null) run.add(problem, ATTESTATION_FILE)
  else if (options.requireSignature) run.add('E_SIGNATURE_MISSING', undefined, 'no public key')
  else run.add('W_SIGNATURE_UNVERIFIED', undefined, 'signature not checked: no key given')
  return options.requireSignature || problem !== null ? 'passed' : 'skipped'
}

/** `E_ATTESTATION_MALFORMED` when the attestation's payload is not a well-formed one, else null. */
function payloadProblem(jws: string): 'E_ATTESTATION_MALFORMED' | null {
  try {
    decodeAttestationUnverified(jws)
    return null
  } catch {
    return 'E_ATTESTATION_MALFORMED'
  }
}

/** The two tag manifests (RFC 8493 §2.2.1) must be byte for byte the ones signed. */
async function checkSignedTagManifests(
  ctx: Ctx,
  run: Run,
  payload: AttestationPayload,
  maxTag: number,
): Promise<void> {
  for (const alg of ['sha512', 'sha256'] as const) {
    const name = `tagmanifest-${alg}.txt`
    const tm = await readTag(ctx, name, maxTag)
    if (tm === null || tm === 'too-large') {
      run.add('E_TAG_MANIFEST_MISMATCH', name, 'missing')
      continue
    }
    if (!hexEqual(digestHex(alg, tm), payload.tagManifests[alg])) run.add('E_TAG_MANIFEST_MISMATCH', name)
  }
}

/** The chain against the verifier's state: replay, rollback, fork, gap. */
function checkChain(run: Run, check: Extract<AttestationCheck, { valid: true }>, state: VerifyState): void {
  const payload = check.payload
  const head = state.chains[payload.backupSetId]
  if (!head) return
  if (payload.seq < head.seq) run.add('E_ROLLBACK', undefined, `seq ${payload.seq} < ${head.seq}`)
  else if (payload.seq === head.seq && !hexEqual(check.digest, head.attestationSha256))
    run.add('E_REPLAY', undefined, `second attestation with seq ${payload.seq}`)
  else if (payload.seq === head.seq + 1 && !hexEqual(payload.prev ?? '', head.attestationSha256))
    run.add('E_CHAIN_BROKEN', undefined, 'prev does not match the last accepted attestation')
  else if (payload.seq > head.seq + 1)
    run.add('W_SEQUENCE_GAP', undefined, `${payload.seq - head.seq - 1} missing`)
}
