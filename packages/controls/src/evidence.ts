/**
 * The auditor's evidence report, gathered: what was verified (audit log, backups), which keys are
 * in use and how old they are, and which session and password policies are in force. Signing is
 * in `evidence-sign.ts`, the Markdown rendering in `evidence-render.ts`.
 *
 * The builder takes results that other packages already computed, so this package needs none of
 * them. The report carries codes, counts, sequence numbers, timestamps and key references only:
 * never record contents, file names inside bags, or secrets.
 *
 * @module
 */
import { type Clock, systemClock } from '@safeguards/core'
import {
  type Baseline,
  type BaselineAdjustment,
  defaultBaseline,
  type Threshold,
  withThreshold,
} from './baseline.js'
import {
  type EvidenceArea,
  judgeEvidence,
  type SpecificationVerdict,
  type Verdict,
  type VerdictCounts,
} from './evidence-judge.js'
import type { TransitCheckInput } from './evidence-transit.js'
import { AREAS, copyMfa, copyPassword, copySession, copyTransit } from './internal/evidence-copy.js'
import { gatherAuditLog, gatherBackup, gatherKeys, gatherReview, iso } from './internal/evidence-gather.js'

/** The fields of an `@safeguards/audit-log` `VerifyReport` the evidence uses. */
export interface AuditLogVerifyInput {
  ok: boolean
  stream: string
  records: number
  checkpoints: { total: number; verified: number }
  anchoredThrough: number | null
  checkpointedThrough: number | null
  findings: readonly { seq: number; code: string; severity: 'error' | 'warning' }[]
}

/** The fields of an `@safeguards/backup` `VerifyReport` the evidence uses. */
export interface BackupVerifyInput {
  status: 'ok' | 'partial' | 'failed'
  exitCode: number
  finishedAt: string
  bag: {
    bagId: string | null
    backupSetId: string | null
    payloadFiles: number
    payloadBytes: number
    encrypted: boolean
  }
  attestation: {
    verified: boolean
    kid: string | null
    seq: number | null
    createdAt: string | null
    sha256: string
  } | null
  findings: readonly { code: string; severity: string }[]
  coverage: { filesVerified: number; filesTotal: number }
  /** The restore tests run during the verification (their names and outcomes), if any. */
  restoreTests?: readonly { name: string; ok: boolean }[]
}

/** One key version, as `LocalKeyring.list()` describes it. */
export interface KeyVersionInput {
  keyRef: string
  version: number
  state: string
  retired?: boolean
  /** Milliseconds since the epoch, when known. */
  createdAt?: number
  usage?: { wraps: bigint; limit: bigint } | undefined
}

/** A keyring listing. */
export interface KeyringInput {
  name: string
  sealed: boolean
  keys: readonly KeyVersionInput[]
}

/** Session timeouts in force (an `@safeguards/session` `SessionPolicy`). */
export interface SessionPolicyInput {
  defaults: { idleTimeoutMs: number; absoluteTimeoutMs: number }
  roles: Readonly<Record<string, { idleTimeoutMs: number; absoluteTimeoutMs: number }>>
  maxSessionsPerUser: number
  onSessionLimit: string
  /** True when these are assumed (library defaults), not the policy the application loads. */
  declared?: boolean
}

/** Password policy in force (the options given to `checkPasswordPolicy`, resolved). */
export interface PasswordPolicyInput {
  minLength: number
  maxLength: number
  maxBytes: number
  mfa: boolean
  /** The policy's basis, for example `NIST SP 800-63B rev 4`. */
  basis: string
  /** New passwords are checked against a blocklist (undefined: not stated). */
  blocklist?: boolean
  /** Hashes are upgraded on sign-in when their parameters are outdated (undefined: not stated). */
  rehash?: boolean
  /** True (the default) when self-attested (flags); false when read from the running configuration. */
  declared?: boolean
}

/**
 * Which roles must pass a second factor, and (from the MFA store) how many users with PHI access
 * are enrolled.
 */
export interface MfaInput {
  /** Roles that require MFA, or `'*'` for every role. */
  requiredRoles: readonly string[] | '*'
  /** True (the default) when the roles are self-attested rather than read from the policy in force. */
  declared?: boolean
  /** Counted in the MFA store: users with PHI access, and those of them enrolled. */
  enrollment?: { users: number; enrolled: number }
}

/** A checkpoint verified with a trusted key: the log state the report is tied to. */
export interface VerifiedCheckpointInput {
  /** Records committed to. */
  size: number
  /** Base64 RFC 6962 root of the first `size` records. */
  root: string
  /** When it was made (RFC 3339). */
  timestamp: string
  /** The key id that signed it. */
  kid: string
}

/**
 * The newest activity-review run recorded in the audit log (what `safeguards audit review` appends:
 * the range it reviewed and its findings per detector), or `null` when the log holds none.
 */
export interface ActivityReviewInput {
  /** When the run was recorded. */
  ranAt: Date
  /** The run's own record. */
  seq: number
  /** The records it reviewed: `from <= seq < through`. */
  from: number
  through: number
  /** The log's size when it ran. */
  logSize: number
  /** Findings of that run, by detector. */
  findings: Readonly<Record<string, number>>
}

/** What {@link buildEvidenceReport} gathers. Omit a section that was not examined. */
export interface EvidenceInputs {
  /** The clock that dates the report and ages backups and keys (default `systemClock`). */
  clock?: Clock
  /**
   * The audit log verification, with when it ran, and the newest checkpoint verified with a trusted
   * key (its size and root tie the report to the log state it judged).
   */
  auditLog?: { report: AuditLogVerifyInput; verifiedAt: Date; checkpoint?: VerifiedCheckpointInput }
  /** One backup verification per bag. */
  backups?: readonly BackupVerifyInput[]
  keyring?: KeyringInput
  sessionPolicy?: SessionPolicyInput
  passwordPolicy?: PasswordPolicyInput
  /** The newest activity review found in the log (`null`: the log was examined and has none). */
  activityReview?: ActivityReviewInput | null
  /**
   * The findings still open in the findings store (new, or their suppression passed), by detector;
   * reported in the activity-review section (which needs `activityReview`).
   */
  openFindings?: Readonly<Record<string, number>>
  /**
   * The primary key version must be younger than this: overrides the baseline's
   * `keys.rotationPeriod` (recorded as a change with the reason `maxKeyAgeMs option`).
   */
  maxKeyAgeMs?: number
  /** The multi-factor policy, and the enrolment counted in the MFA store. */
  mfa?: MfaInput
  /** Each configured endpoint's transit check ({@link runTransitChecks}). */
  transit?: readonly TransitCheckInput[]
  /** The thresholds to judge by (default {@link defaultBaseline}). */
  baseline?: Baseline
}

/** An area with a `not met` verdict, in {@link EvidenceReport.failures}. */
export type EvidenceCheck = EvidenceArea

/** The evidence report (JSON; schema version 2: verdicts, baseline and summary added). */
export interface EvidenceReport {
  schemaVersion: 2
  generatedAt: string
  /** True when no check is `not met`. */
  ok: boolean
  /** The areas with a `not met` check. */
  failures: EvidenceCheck[]
  /** The baseline judged by: its name and hash, every threshold with its source, and the team's changes with their reasons. */
  baseline: {
    name: string
    hash: string
    phiRoles: string[] | '*'
    thresholds: Threshold[]
    adjustments: BaselineAdjustment[]
  }
  /** One verdict per check, with the measured value, the threshold, its source and the fix. */
  verdicts: Verdict[]
  /** The worst status per HIPAA specification (administrative, physical, technical). */
  specifications: SpecificationVerdict[]
  /** Specification statuses counted per safeguard family. */
  summary: Record<'administrative' | 'physical' | 'technical', VerdictCounts>
  auditLog: {
    ok: boolean
    stream: string
    verifiedAt: string
    records: number
    /** The last sequence number verified intact (seq counts from 0), or null. */
    verifiedThroughSeq: number | null
    checkpoints: { total: number; verified: number }
    anchoredThroughSeq: number | null
    checkpointedThroughSeq: number | null
    /** True when checkpoint signatures were checked against trusted keys. */
    signaturesChecked: boolean
    /** Records after the last anchored one (null: nothing anchored). */
    anchorLagRecords: number | null
    /** The newest checkpoint verified with a trusted key: size and root of the log judged. */
    checkpoint: VerifiedCheckpointInput | null
    findings: { seq: number; code: string; severity: string }[]
  } | null
  backups: {
    ok: boolean
    status: string
    exitCode: number
    verifiedAt: string
    bagId: string | null
    backupSetId: string | null
    payloadFiles: number
    payloadBytes: number
    encrypted: boolean
    filesVerified: number
    signed: boolean
    signingKid: string | null
    attestationSeq: number | null
    attestationSha256: string | null
    createdAt: string | null
    /** Age of the backup at `generatedAt`, in milliseconds, when its creation time is known. */
    ageMs: number | null
    findings: { code: string; severity: string }[]
    /** Restore tests run with this verification. */
    restoreTests: { name: string; ok: boolean }[]
    /** Age of that verification (the restore test) at `generatedAt`, when one ran. */
    restoreTestAgeMs: number | null
  }[]
  keys: {
    ok: boolean
    keyring: string
    sealed: boolean
    primary: string | null
    versions: {
      keyRef: string
      version: number
      state: string
      retired: boolean
      createdAt: string | null
      ageMs: number | null
      wraps: string | null
      wrapLimit: string | null
    }[]
  } | null
  sessionPolicy: SessionPolicyInput | null
  passwordPolicy: PasswordPolicyInput | null
  mfa: {
    requiredRoles: string[] | '*'
    declared: boolean
    enrollment: { users: number; enrolled: number } | null
  } | null
  transit: TransitCheckInput[] | null
  /**
   * The newest activity review (164.308(a)(1)(ii)(D)): when it ran and how old it is, the records it
   * covered, and its findings by detector; `ran: false` when the log holds no review run; the
   * section is `null` when the log was not examined. With a findings store, `openFindings` (by
   * detector) and `totalOpenFindings` say what is still to be reviewed.
   */
  activityReview:
    | ({ ran: false } & OpenFindings)
    | ({
        ran: true
        ranAt: string
        ageMs: number
        seq: number
        from: number
        through: number
        logSize: number
        findings: Record<string, number>
        totalFindings: number
      } & OpenFindings)
    | null
}

/**
 * The open findings of the findings store, when one was examined (both members, or neither).
 *
 * @example
 * ```ts
 * if (report.activityReview?.totalOpenFindings) console.log(report.activityReview.openFindings)
 * ```
 */
export interface OpenFindings {
  /** Findings still open (new, or their suppression passed), by detector. */
  openFindings?: Record<string, number>
  totalOpenFindings?: number
}

/**
 * Builds the evidence report from results already computed: `verifyLog` (audit-log),
 * `verifyBag` (backup), `LocalKeyring.list()` (envelope), `parsePolicy` (session) and the
 * password policy options. Copies codes, counts, sequence numbers, timestamps and key references
 * only: finding messages and bag file paths are dropped.
 *
 * Then judges every section against the baseline (`judgeEvidence`): one verdict per check with
 * the measured value, the threshold, its source and the fix, the worst status per HIPAA
 * specification, and the counts per safeguard family. `ok` is false, and `failures` names the
 * area, when a check is `not met`: a log that does not verify, a partial, altered or unsigned bag, a
 * key version past its rotation period, a timeout or password length beyond its threshold, a PHI
 * role without MFA, no activity review within its period, a failed transit check.
 *
 * HIPAA: 164.308(a)(8) evaluation, 164.316(b)(1) documentation (of every specification judged).
 *
 * @hipaa 164.308(a)(8) supports
 * @hipaa 164.316(b)(1) supports
 * @nist CA-7 164.308(a)(8)
 * @evidence a signed evidence report: audit log verified through a sequence number, backups verified and their age, key versions and their ages, session and password policies in force
 * @appResponsibility Run it on a schedule and review the failures; the reports document an evaluation, so keep them six years from creation (164.316(b)(2)(i)).
 * @verifiedBy packages/controls/test/evidence.test.ts
 * @verifiedBy packages/cli/test/evidence.test.ts
 * @throws {EvidenceError} `ERR_EVIDENCE_INPUT` for an invalid date (including a clock that
 *   returns no valid time).
 * @example
 * ```ts
 * const report = buildEvidenceReport({ auditLog: { report: await verifyLog(store), verifiedAt: new Date() } })
 * report.ok // true when every check passed
 * ```
 */
export function buildEvidenceReport(inputs: EvidenceInputs): EvidenceReport {
  const clock = inputs.clock ?? systemClock
  const now = clock.now()
  const generatedAt = iso(new Date(now), 'clock.now()')
  let baseline = inputs.baseline ?? defaultBaseline()
  if (inputs.maxKeyAgeMs !== undefined)
    baseline = withThreshold(baseline, 'keys.rotationPeriod', inputs.maxKeyAgeMs, 'maxKeyAgeMs option')
  const sections = {
    auditLog: inputs.auditLog === undefined ? null : gatherAuditLog(inputs.auditLog),
    backups: (inputs.backups ?? []).map((b) => gatherBackup(b, now)),
    keys: inputs.keyring === undefined ? null : gatherKeys(inputs.keyring, now),
    sessionPolicy: inputs.sessionPolicy === undefined ? null : copySession(inputs.sessionPolicy),
    passwordPolicy: inputs.passwordPolicy === undefined ? null : copyPassword(inputs.passwordPolicy),
    mfa: inputs.mfa === undefined ? null : copyMfa(inputs.mfa),
    transit: inputs.transit === undefined ? null : inputs.transit.map(copyTransit),
    activityReview: gatherReview(inputs.activityReview, now, inputs.openFindings),
  }
  const judged = judgeEvidence(sections, baseline)
  const failing = new Set(judged.verdicts.filter((v) => v.status === 'not met').map((v) => v.area))
  const failures = AREAS.filter((a) => failing.has(a))
  if (sections.keys !== null) sections.keys.ok = !failing.has('keys')
  return {
    schemaVersion: 2,
    generatedAt,
    ok: failures.length === 0,
    failures,
    baseline: {
      name: baseline.name,
      hash: baseline.hash,
      phiRoles: baseline.phiRoles === '*' ? '*' : [...baseline.phiRoles],
      thresholds: Object.values(baseline.thresholds).map((t) => ({ ...t })),
      adjustments: baseline.adjustments.map((a) => ({ ...a })),
    },
    verdicts: judged.verdicts,
    specifications: judged.specifications,
    summary: judged.summary,
    ...sections,
  }
}
