/**
 * Verifying a bag (RFC 8493 §3: complete, then valid), in a fixed order that fails closed. One
 * file per stage under `internal/verify/`:
 *
 * 1. `paths` (`paths.ts`, with `declaration.ts`, `manifests.ts`, `fetch.ts`): the bag
 *    declaration, every manifest and fetch line (untrusted: no `..`, absolute, `~`, backslash,
 *    drive or control characters; names compared after NFC normalisation), and the tree itself
 *    walked with `lstat` (a symlink or special file anywhere fails the bag). Nothing outside the
 *    bag is ever opened: only files the walk found inside it are read.
 * 2. `signature` (`signature.ts`, `tag-manifests.ts`): the attestation (allow-listed algorithm,
 *    known `kid`), then the tag manifests' digests against it, then every tag file against the tag
 *    manifests, then the chain (`seq`, `prev`) against the verifier's state. Only after this are
 *    manifest lines trusted.
 * 3. `completeness` (`completeness.ts`): missing and extra payload files, entries missing from a
 *    manifest, unfetched fetch.txt entries, Payload-Oxum.
 * 4. `integrity` (`integrity.ts`): every digest of every selected file (all files, or a budgeted
 *    sample, least recently verified first), hashed in parallel in one pass per file.
 * 5. `decryptability` (`decryptability.ts`): with a cipher, every selected encrypted file
 *    decrypts under its path.
 * 6. `freshness` (`freshness.ts`): the signed creation time is younger than the maximum age (the RPO).
 * 7. `restore` (`restore.ts`): application restore tests.
 *
 * The report is assembled, and the run's event emitted, by `report.ts`.
 *
 * @module
 */
import { createEmitter, systemClock } from '@safeguards/core'
import { STAGES, type Stage } from './findings.js'
import { completenessStage } from './internal/verify/completeness.js'
import { decryptStage } from './internal/verify/decryptability.js'
import { freshnessStage } from './internal/verify/freshness.js'
import { integrityStage } from './internal/verify/integrity.js'
import { pathsStage } from './internal/verify/paths.js'
import { assembleReport, emitOutcome } from './internal/verify/report.js'
import { restoreStage } from './internal/verify/restore.js'
import { DEFAULT_MAX_TAG_BYTES, newCtx, Run } from './internal/verify/run.js'
import { signatureStage } from './internal/verify/signature.js'
import type { VerifyOptions, VerifyResult } from './verify-options.js'
import { emptyVerifyState, type VerifyState } from './verify-state.js'

/**
 * Verifies the bag at `bagDir`. A problem is a finding in the returned report, never a throw;
 * `report.exitCode` gives the CLI's exit code (0 ok, 1 integrity, 3 authenticity, 4 stale,
 * 5 not decryptable or restore failed, 6 unreadable).
 *
 * Events: one `backup.verified` (`counts.files`, `counts.bytes`, `counts.filesVerified`,
 * `counts.bytesVerified`, `bagId`) when the report's exit code is 0, otherwise one `backup.failed`
 * (`code`: the first error finding, `counts.findings`: the error findings, `bagId`).
 *
 * HIPAA: implements 164.312(c)(2) mechanism to authenticate ePHI for backups (digests and
 * signature); supports 164.308(a)(7)(ii)(A) data backup plan, (B) disaster recovery plan and
 * (D) testing and revision procedures (it is one test step; testing and revising the plan stay
 * yours), and 164.312(c)(1) integrity.
 *
 * @hipaa 164.308(a)(7)(ii)(D) supports
 * @hipaa 164.308(a)(7)(ii)(B) supports
 * @hipaa 164.308(a)(7)(ii)(A) supports
 * @hipaa 164.312(c)(2) implements
 * @hipaa 164.312(c)(1) supports
 * @nist CP-9(1) 164.308(a)(7)(ii)(A)
 * @nist CP-10 164.308(a)(7)(ii)(B): checks that a backup can be decrypted and restored (restore-test hook) before it is needed
 * @nist SI-7 164.312(c)(2)
 * @nist SI-7(6) 164.312(c)(2): SHA-512 and SHA-256 manifests and an Ed25519-signed attestation are checked
 * @nist SI-7 164.312(c)(1)
 * @evidence a versioned JSON verification report (paths, signature, completeness, integrity, decryptability, freshness, restore tests) and failure alerts carrying codes and counts only
 * @appResponsibility Run verification on a schedule, act on alerts immediately, and run full restore drills; the verifier is evidence, not the disaster-recovery plan.
 * @config maxAgeMs (RPO), requireSignature, budget, restore-test hook, alert sinks
 * @verifiedBy packages/backup/test/verify.test.ts
 * @verifiedBy packages/backup/test/state-and-hooks.test.ts
 * @verifiedBy packages/backup/test/alerts.test.ts
 *
 * @throws {TypeError} for malformed options (including `publicKeys: []`); never for a malformed or
 *   hostile bag.
 * @throws {EventSinkError} (`ERR_EVENT_SINK`) when a critical event sink fails (the report is
 *   then not returned: fail closed).
 * @example
 * ```ts
 * const { report, state } = await verifyBag('/backups/2026-11-22', {
 *   publicKeys, requireSignature: true, maxAgeMs: 36 * 3600_000, state: await loadVerifyState(statePath),
 * })
 * await saveVerifyState(statePath, state)
 * process.exitCode = report.exitCode
 * ```
 */
export async function verifyBag(bagDir: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  if (typeof bagDir !== 'string' || bagDir === '') throw new TypeError('"bagDir" expected a path')
  if (options.publicKeys !== undefined) {
    if (!Array.isArray(options.publicKeys) || options.publicKeys.length === 0)
      throw new TypeError('"publicKeys" expected at least one key')
  }
  const clock = options.clock ?? systemClock
  const emitter = createEmitter(options)
  const started = clock.now()
  const run = new Run()
  const state: VerifyState = structuredClone(options.state ?? emptyVerifyState())
  const maxTag = options.maxTagFileBytes ?? DEFAULT_MAX_TAG_BYTES
  const ctx = newCtx()
  const stageFns: Record<Stage, () => Promise<'passed' | 'skipped'>> = {
    paths: () => pathsStage(bagDir, ctx, run, maxTag),
    signature: () => signatureStage(ctx, run, options, state, maxTag),
    completeness: () => completenessStage(ctx, run),
    integrity: () => integrityStage(ctx, run, options, state, clock),
    decryptability: () => decryptStage(ctx, run, options),
    freshness: () => freshnessStage(ctx, run, options, clock),
    restore: () => restoreStage(ctx, run, options, clock),
  }
  let stopped = false
  for (const stage of STAGES) {
    if (stopped) {
      run.stages.push({ stage, status: 'not-run', durationMs: 0 })
      continue
    }
    run.stage = stage
    const t0 = clock.now()
    const outcome = await stageFns[stage]()
    const failed = run.failedIn(stage)
    run.stages.push({ stage, status: failed ? 'failed' : outcome, durationMs: clock.now() - t0 })
    // Integrity still runs after a completeness failure, to report every damaged file.
    if (failed && stage !== 'completeness') stopped = true
    if (stage === 'integrity' && run.failedIn('completeness')) stopped = true
  }
  const report = assembleReport(ctx, run, state, options, started, clock)
  await emitOutcome(emitter, report, clock)
  return { report, state }
}
