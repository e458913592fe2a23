/**
 * The versioned JSON report of one verification. Paths appear in findings (an operator needs
 * them); keep reports as private as the backup itself. Alerts are derived from reports with
 * codes and counts only (see `alerts.ts`).
 *
 * @module
 */
import type { SignatureAlgorithm } from './attestation.js'
import type { BackupExitCodeValue, Finding, Stage } from './findings.js'

/**
 * The report format version. Bumped on any incompatible change.
 *
 * @example
 * ```ts
 * if (report.schemaVersion !== REPORT_SCHEMA_VERSION) throw new Error('unknown report format')
 * ```
 */
export const REPORT_SCHEMA_VERSION = 1

/** How one stage went. `not-run`: an earlier stage failed (fail closed). */
export interface StageResult {
  stage: Stage
  status: 'passed' | 'failed' | 'skipped' | 'not-run'
  durationMs: number
}

/** A verification report. */
export interface VerifyReport {
  /** {@link REPORT_SCHEMA_VERSION}. */
  schemaVersion: 1
  /** The tool that wrote it. */
  tool: { name: '@safeguards/backup'; version: string }
  /** `ok`: everything ran over 100 % and passed; `partial`: passed, but content hashing was sampled. */
  status: 'ok' | 'partial' | 'failed'
  /** The exit code `safeguards backup verify` uses for it. */
  exitCode: BackupExitCodeValue
  /** Start and end (ISO 8601). */
  startedAt: string
  finishedAt: string
  /** What the bag says about itself (from verified tag files when signed). */
  bag: {
    bagItVersion: string | null
    bagId: string | null
    backupSetId: string | null
    payloadFiles: number
    payloadBytes: number
    encrypted: boolean
    algorithms: string[]
  }
  /** The attestation, when one was present. */
  attestation: {
    verified: boolean
    kid: string | null
    alg: SignatureAlgorithm | null
    seq: number | null
    createdAt: string | null
    sha256: string
  } | null
  /** Per stage, in order. */
  stages: StageResult[]
  /** Every finding. */
  findings: Finding[]
  /** Totals. */
  counts: {
    errors: number
    warnings: number
    filesHashed: number
    bytesHashed: number
    missing: number
    extra: number
    changed: number
    unreadable: number
  }
  /** Content-hashing coverage of this run and across runs (with a state). */
  coverage: {
    filesVerified: number
    filesTotal: number
    bytesVerified: number
    bytesTotal: number
    ratio: number
    complete: boolean
    /** The manifests whose digests this run checked. */
    algorithms: string[]
    /** Files verified at least once (this run or earlier runs in the state). */
    filesEverVerified: number
    /** Oldest per-file verification time across the bag (ISO), null if some file never was. */
    oldestVerifiedAt: string | null
  }
  /** Freshness: newest signed (or, unsigned, bag-info) timestamp and its age. */
  freshness: { timestamp: string | null; signed: boolean; ageMs: number | null; maxAgeMs: number | null }
  /** Restore tests run. */
  restoreTests: { name: string; ok: boolean; durationMs: number }[]
}
