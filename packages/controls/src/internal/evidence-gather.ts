/**
 * The gathering half of the evidence report (see `evidence.ts`): the audit-log, backup, key and
 * activity-review sections, copied from results other packages computed. Codes, counts, sequence
 * numbers, timestamps and key references only; finding messages and bag file paths are dropped.
 */
import { EvidenceError } from '../errors.js'
import type {
  BackupVerifyInput,
  EvidenceInputs,
  EvidenceReport,
  KeyringInput,
  OpenFindings,
} from '../evidence.js'

/** `d` as an ISO 8601 string. @throws {EvidenceError} `ERR_EVIDENCE_INPUT` for an invalid date. */
export function iso(d: Date, what: string): string {
  if (!(d instanceof Date) || Number.isNaN(d.getTime()))
    throw new EvidenceError('ERR_EVIDENCE_INPUT', `${what} is not a valid date`)
  return d.toISOString()
}

function ageOf(createdAt: string | null, now: number): number | null {
  if (createdAt === null) return null
  const t = Date.parse(createdAt)
  return Number.isNaN(t) ? null : Math.max(0, now - t)
}

/** The activity-review section: the newest run, its age and coverage, its findings by detector. */
export function gatherReview(
  input: EvidenceInputs['activityReview'],
  now: number,
  open: EvidenceInputs['openFindings'],
): EvidenceReport['activityReview'] {
  if (input === undefined) return null
  const sorted = (m: Readonly<Record<string, number>>): Record<string, number> =>
    Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : 1)))
  const total = (m: Record<string, number>): number => Object.values(m).reduce((a, b) => a + b, 0)
  const openPart: OpenFindings =
    open === undefined ? {} : { openFindings: sorted(open), totalOpenFindings: total(sorted(open)) }
  if (input === null) return { ran: false, ...openPart }
  const ranAt = iso(input.ranAt, 'activityReview.ranAt')
  const findings = sorted(input.findings)
  return {
    ran: true,
    ranAt,
    ageMs: Math.max(0, now - input.ranAt.getTime()),
    seq: input.seq,
    from: input.from,
    through: input.through,
    logSize: input.logSize,
    findings,
    totalFindings: total(findings),
    ...openPart,
  }
}

/** The audit-log section: verified through the last seq before the first error. */
export function gatherAuditLog(
  input: NonNullable<EvidenceInputs['auditLog']>,
): NonNullable<EvidenceReport['auditLog']> {
  const r = input.report
  const errorSeqs = r.findings.filter((f) => f.severity === 'error').map((f) => f.seq)
  const through = r.ok ? r.records - 1 : Math.min(r.records, ...errorSeqs) - 1
  return {
    ok: r.ok,
    stream: r.stream,
    verifiedAt: iso(input.verifiedAt, 'auditLog.verifiedAt'),
    records: r.records,
    verifiedThroughSeq: through >= 0 ? through : null,
    checkpoints: { total: r.checkpoints.total, verified: r.checkpoints.verified },
    anchoredThroughSeq: r.anchoredThrough,
    checkpointedThroughSeq: r.checkpointedThrough,
    signaturesChecked: !r.findings.some((f) => f.code === 'CHECKPOINT_UNVERIFIED') && r.checkpoints.total > 0,
    anchorLagRecords: r.anchoredThrough === null ? null : Math.max(0, r.records - 1 - r.anchoredThrough),
    checkpoint: input.checkpoint === undefined ? null : { ...input.checkpoint },
    findings: r.findings.map((f) => ({ seq: f.seq, code: f.code, severity: f.severity })),
  }
}

/** One backup row: codes and counts of the verification, no file names. */
export function gatherBackup(b: BackupVerifyInput, now: number): EvidenceReport['backups'][number] {
  const createdAt = b.attestation?.createdAt ?? null
  return {
    ok: b.status === 'ok' && b.attestation?.verified === true,
    status: b.status,
    exitCode: b.exitCode,
    verifiedAt: b.finishedAt,
    bagId: b.bag.bagId,
    backupSetId: b.bag.backupSetId,
    payloadFiles: b.bag.payloadFiles,
    payloadBytes: b.bag.payloadBytes,
    encrypted: b.bag.encrypted,
    filesVerified: b.coverage.filesVerified,
    signed: b.attestation?.verified === true,
    signingKid: b.attestation?.kid ?? null,
    attestationSeq: b.attestation?.seq ?? null,
    attestationSha256: b.attestation?.sha256 ?? null,
    createdAt,
    ageMs: ageOf(createdAt, now),
    findings: b.findings.map((f) => ({ code: f.code, severity: f.severity })),
    restoreTests: (b.restoreTests ?? []).map((t) => ({ name: t.name, ok: t.ok })),
    restoreTestAgeMs: (b.restoreTests ?? []).length === 0 ? null : ageOf(b.finishedAt, now),
  }
}

/** The keys section: every version with its age (null when unknown: not measured) and usage. */
export function gatherKeys(k: KeyringInput, now: number): NonNullable<EvidenceReport['keys']> {
  const versions = [...k.keys]
    .sort((a, b) => a.version - b.version)
    .map((v) => {
      const createdAt = v.createdAt === undefined ? null : iso(new Date(v.createdAt), 'key createdAt')
      return {
        keyRef: v.keyRef,
        version: v.version,
        state: v.retired === true ? 'retired' : v.state,
        retired: v.retired === true,
        createdAt,
        ageMs: ageOf(createdAt, now),
        wraps: v.usage === undefined ? null : v.usage.wraps.toString(),
        wrapLimit: v.usage === undefined ? null : v.usage.limit.toString(),
      }
    })
  const primary = versions.find((v) => v.state === 'primary') ?? null
  return {
    ok: primary !== null,
    keyring: k.name,
    sealed: k.sealed,
    primary: primary?.keyRef ?? null,
    versions,
  }
}
