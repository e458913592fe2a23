/**
 * Verification findings: what `verifyBag` reports, stage by stage, and the exit codes they map to.
 *
 * The stages run in a fixed order and fail closed (RFC 8493 validation plus the attestation):
 * `paths` → `signature` → `completeness` → `integrity` → `decryptability` → `freshness` →
 * `restore`. A stage that fails stops the pipeline, except that `integrity` still runs after a
 * `completeness` failure so that one run reports every damaged file.
 *
 * @module
 */

/** The verification stages, in the order they run. */
export type Stage =
  | 'paths'
  | 'signature'
  | 'completeness'
  | 'integrity'
  | 'decryptability'
  | 'freshness'
  | 'restore'

/**
 * Every stage, in order.
 *
 * HIPAA: 164.312(c)(1) integrity.
 *
 * @example
 * ```ts
 * for (const stage of STAGES) console.log(stage, report.stages.find((s) => s.stage === stage)?.status)
 * ```
 */
export const STAGES: readonly Stage[] = Object.freeze([
  'paths',
  'signature',
  'completeness',
  'integrity',
  'decryptability',
  'freshness',
  'restore',
])

/** Finding codes. `E_…` are errors (the bag fails), `W_…` are warnings (the bag still validates). */
export type FindingCode =
  // paths / structure
  | 'E_NOT_A_BAG'
  | 'E_BAG_DECLARATION'
  | 'E_TAG_FILE_ENCODING'
  | 'E_MANIFEST_SYNTAX'
  | 'E_NO_PAYLOAD_MANIFEST'
  | 'E_UNSAFE_PATH'
  | 'E_UNEXPECTED_TYPE'
  | 'E_DUPLICATE_ENTRY'
  | 'E_NAME_COLLISION'
  | 'E_TOO_LARGE'
  | 'W_DUPLICATE_ENTRY'
  | 'W_RELATIVE_PATH'
  | 'W_MD5SUM_STYLE'
  | 'W_CASE_COLLISION'
  | 'W_WEAK_ALGORITHM'
  // signature
  | 'E_SIGNATURE_MISSING'
  | 'E_SIGNATURE_INVALID'
  | 'E_ALGORITHM_NOT_ALLOWED'
  | 'E_UNKNOWN_KEY'
  | 'E_ATTESTATION_MALFORMED'
  | 'E_TAG_MANIFEST_MISMATCH'
  | 'E_TAG_FILE_MISMATCH'
  | 'E_TAG_FILE_MISSING'
  | 'E_TAG_FILE_UNCOVERED'
  | 'E_REPLAY'
  | 'E_ROLLBACK'
  | 'E_CHAIN_BROKEN'
  | 'W_UNSIGNED'
  | 'W_SIGNATURE_UNVERIFIED'
  | 'W_SEQUENCE_GAP'
  | 'W_TAG_FILE_UNLISTED'
  // completeness
  | 'E_MISSING'
  | 'E_EXTRA'
  | 'E_NOT_IN_EVERY_MANIFEST'
  | 'E_RENAMED_NORMALIZATION'
  | 'E_OXUM_MISMATCH'
  | 'E_FETCH_UNRESOLVED'
  | 'W_SYSTEM_FILE'
  | 'W_CASE_TWIN'
  // integrity
  | 'E_DIGEST_MISMATCH'
  | 'E_UNREADABLE'
  | 'E_CHANGED_DURING_READ'
  // decryptability
  | 'E_NOT_DECRYPTABLE'
  | 'W_DECRYPTABILITY_UNCHECKED'
  // freshness
  | 'E_STALE'
  | 'E_FUTURE_TIMESTAMP'
  | 'W_FRESHNESS_UNSIGNED'
  // restore tests
  | 'E_RESTORE_TEST_FAILED'

/** One finding. `path` is bag-relative and appears in reports only, never in alerts. */
export interface Finding {
  /** Stable code. */
  code: FindingCode
  /** `error` fails the bag; `warning` does not. */
  severity: 'error' | 'warning'
  /** The stage that produced it. */
  stage: Stage
  /** Bag-relative path, when the finding is about one file (may be PHI: keep reports private). */
  path?: string
  /** Short extra detail without file contents (for example the manifest algorithm). */
  detail?: string
}

/**
 * Exit codes of `safeguards backup verify` (and of {@link exitCodeForFindings}): 0 ok; 1
 * integrity (paths, completeness, digests); 2 usage; 3 authenticity; 4 stale; 5 not decryptable
 * or restore test failed; 6 unreadable files.
 *
 * HIPAA: 164.308(a)(7)(ii)(A)-(B) (a scheduler can page on a non-zero code).
 *
 * @example
 * ```ts
 * if (report.exitCode === BackupExitCode.STALE) page('backup job did not run')
 * ```
 */
export const BackupExitCode: {
  readonly OK: 0
  readonly INTEGRITY: 1
  readonly USAGE: 2
  readonly AUTHENTICITY: 3
  readonly STALE: 4
  readonly NOT_DECRYPTABLE: 5
  readonly UNREADABLE: 6
} = Object.freeze({
  OK: 0,
  INTEGRITY: 1,
  USAGE: 2,
  AUTHENTICITY: 3,
  STALE: 4,
  NOT_DECRYPTABLE: 5,
  UNREADABLE: 6,
})

/** Exit code values. */
export type BackupExitCodeValue = (typeof BackupExitCode)[keyof typeof BackupExitCode]

function codeFor(finding: Finding): BackupExitCodeValue {
  switch (finding.stage) {
    case 'signature':
      return BackupExitCode.AUTHENTICITY
    case 'freshness':
      return BackupExitCode.STALE
    case 'decryptability':
    case 'restore':
      return BackupExitCode.NOT_DECRYPTABLE
    case 'integrity':
      return finding.code === 'E_UNREADABLE' || finding.code === 'E_CHANGED_DURING_READ'
        ? BackupExitCode.UNREADABLE
        : BackupExitCode.INTEGRITY
    default:
      return BackupExitCode.INTEGRITY
  }
}

/**
 * The exit code for a list of findings: the first failing stage decides (the pipeline is
 * ordered, so that is the most fundamental failure); within integrity, a changed file (1) wins
 * over an unreadable one (6).
 *
 * HIPAA: 164.308(a)(7)(ii)(A) data backup plan (one code per failure class).
 *
 * @throws never.
 * @example
 * ```ts
 * exitCodeForFindings(report.findings) // 0 when no finding is an error
 * ```
 */
export function exitCodeForFindings(findings: readonly Finding[]): BackupExitCodeValue {
  const errors = findings.filter((f) => f.severity === 'error')
  if (errors.length === 0) return BackupExitCode.OK
  for (const stage of STAGES) {
    const here = errors.filter((f) => f.stage === stage)
    if (here.length === 0) continue
    const codes = here.map(codeFor)
    if (codes.includes(BackupExitCode.INTEGRITY)) return BackupExitCode.INTEGRITY
    return codes[0] as BackupExitCodeValue
  }
  return BackupExitCode.INTEGRITY
}
