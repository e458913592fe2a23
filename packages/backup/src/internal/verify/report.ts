/**
 * The end of a run: the versioned report assembled from the stages' findings and context, the
 * chain head advanced in the state (only for a clean, signed bag), and the run's one event.
 *
 * @module
 */
import type { Clock, Emitter } from '@safeguards/core'
import { exitCodeForFindings, type FindingCode } from '../../findings.js'
import { REPORT_SCHEMA_VERSION, type VerifyReport } from '../../report.js'
import type { VerifyOptions } from '../../verify-options.js'
import type { VerifyState } from '../../verify-state.js'
import { BACKUP_VERSION } from '../../version.js'
import { bagInfoValue } from '../tag-files.js'
import { bagIdOf, type Ctx, isEncrypted, type Run } from './run.js'

/** Assembles the report (and advances the chain head in `state` when the bag passed signed). */
export function assembleReport(
  ctx: Ctx,
  run: Run,
  state: VerifyState,
  options: VerifyOptions,
  started: number,
  clock: Clock,
): VerifyReport {
  const exitCode = exitCodeForFindings(run.findings)
  const payloadBytes = ctx.matched.reduce((s, m) => s + m.entry.size, 0)
  const complete =
    ctx.selected.length === ctx.matched.length && ctx.checked.length === ctx.payloadManifests.length
  if (exitCode === 0) advanceChain(ctx, state)
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: '@safeguards/backup', version: BACKUP_VERSION },
    status: exitCode !== 0 ? 'failed' : complete ? 'ok' : 'partial',
    exitCode,
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date(clock.now()).toISOString(),
    bag: {
      bagItVersion: ctx.decl?.version ?? null,
      bagId: bagIdOf(ctx) ?? null,
      backupSetId: ctx.attestation?.backupSetId ?? bagInfoValue(ctx.info, 'Bag-Group-Identifier') ?? null,
      payloadFiles: ctx.matched.length,
      payloadBytes,
      encrypted: isEncrypted(ctx),
      algorithms: ctx.payloadManifests.map((m) => m.algorithm),
    },
    attestation:
      ctx.attestationJws === null
        ? null
        : {
            verified: ctx.signed,
            kid: ctx.kid ?? null,
            alg: ctx.alg ?? null,
            seq: ctx.attestation?.seq ?? null,
            createdAt: ctx.attestation?.createdAt ?? null,
            sha256: ctx.attestationDigestRaw ?? '',
          },
    stages: run.stages,
    findings: run.findings,
    counts: countFindings(ctx, run),
    coverage: {
      filesVerified: ctx.selected.length,
      filesTotal: ctx.matched.length,
      bytesVerified: ctx.selected.reduce((s, m) => s + m.entry.size, 0),
      bytesTotal: payloadBytes,
      ratio: ctx.matched.length === 0 ? 1 : ctx.selected.length / ctx.matched.length,
      complete,
      algorithms: ctx.checked.map((m) => m.algorithm),
      filesEverVerified: ctx.everVerified,
      oldestVerifiedAt: ctx.oldest === null ? null : new Date(ctx.oldest).toISOString(),
    },
    freshness: ctx.freshness ?? {
      timestamp: null,
      signed: false,
      ageMs: null,
      maxAgeMs: options.maxAgeMs ?? null,
    },
    restoreTests: ctx.restore,
  }
}

/** A clean signed bag becomes its backup set's chain head, unless a newer one is known. */
function advanceChain(ctx: Ctx, state: VerifyState): void {
  if (!ctx.signed || !ctx.attestation || !ctx.attestationDigest) return
  const head = state.chains[ctx.attestation.backupSetId]
  if (!head || head.seq <= ctx.attestation.seq)
    state.chains[ctx.attestation.backupSetId] = {
      seq: ctx.attestation.seq,
      attestationSha256: ctx.attestationDigest,
      createdAt: ctx.attestation.createdAt,
    }
}

function countFindings(ctx: Ctx, run: Run): VerifyReport['counts'] {
  const count = (codes: FindingCode[]): number => run.findings.filter((f) => codes.includes(f.code)).length
  return {
    errors: run.findings.filter((f) => f.severity === 'error').length,
    warnings: run.findings.filter((f) => f.severity === 'warning').length,
    filesHashed: ctx.filesHashed,
    bytesHashed: ctx.bytesHashed,
    missing: count(['E_MISSING', 'E_TAG_FILE_MISSING']),
    extra: count(['E_EXTRA']),
    changed: count(['E_DIGEST_MISMATCH', 'E_TAG_FILE_MISMATCH', 'E_RENAMED_NORMALIZATION']),
    unreadable: count(['E_UNREADABLE', 'E_CHANGED_DURING_READ']),
  }
}

/** Emits the run's one event: `backup.verified` when the exit code is 0, else `backup.failed`. */
export async function emitOutcome(emitter: Emitter, report: VerifyReport, clock: Clock): Promise<void> {
  if (!emitter.active) return
  const bagId = report.bag.bagId === null ? {} : { bagId: report.bag.bagId }
  const source = '@safeguards/backup'
  if (report.exitCode === 0) {
    await emitter.emit({
      type: 'backup.verified',
      at: clock.now(),
      source,
      outcome: 'success',
      ...bagId,
      counts: {
        files: report.bag.payloadFiles,
        bytes: report.bag.payloadBytes,
        filesVerified: report.coverage.filesVerified,
        bytesVerified: report.coverage.bytesVerified,
      },
    })
    return
  }
  const errors = report.findings.filter((f) => f.severity === 'error')
  await emitter.emit({
    type: 'backup.failed',
    at: clock.now(),
    source,
    outcome: 'failure',
    ...bagId,
    ...(errors[0] === undefined ? {} : { code: errors[0].code }),
    counts: { findings: errors.length },
  })
}
