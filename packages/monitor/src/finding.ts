/**
 * A finding: one episode of one detector for one key, with the seqs of the records behind it.
 * Numbers, codes and identifiers only (identifiers exactly as the log stores them, so pseudonyms
 * stay pseudonyms); never prose. The id is stable: the same episode gets the same id on every run,
 * `fnd_` + base32 of the first 20 bytes of SHA-256 over the canonical JSON of
 * `{stream, detector, rule, key, firstSeq}` (`rule` is the detector's rule hash, so retuning a
 * detector gives new ids).
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review; 164.308(a)(6) security incident procedures
 * (findings are what an incident review starts from).
 *
 * @module
 */
import { canonicalBytes, sha256 } from '@safeguards/core'
import { DETECTOR_NAMES, type DetectorName, type Severity } from './detectors.js'
import { base32 } from './internal/base32.js'

/**
 * How many seqs (and patients) a finding lists; `count` is the total.
 *
 * @example
 * ```ts
 * if (f.count > MAX_CITED) console.log(`${f.count - MAX_CITED} more records not listed`)
 * ```
 */
export const MAX_CITED = 100

/**
 * One finding.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review (each finding cites its records by seq).
 *
 * @example
 * ```ts
 * const f: Finding = result.findings[0]!
 * console.log(f.id, f.detector, f.severity, f.count, f.seqs.join(','))
 * ```
 */
export interface Finding {
  /** Stable id, `fnd_` + 32 base32 characters. */
  readonly id: string
  readonly detector: DetectorName
  readonly severity: Severity
  /** The user or account concerned. */
  readonly who?: string
  /** The source address (password spray). */
  readonly address?: string
  /** The distinct patients concerned (up to {@link MAX_CITED}, in order of first access). */
  readonly patients?: readonly string[]
  /** Stream time of the first cited record (RFC 3339, UTC, milliseconds). */
  readonly from: string
  /** Stream time of the last record of the episode. */
  readonly to: string
  /** How many records the episode holds (the seqs listed are the first {@link MAX_CITED}). */
  readonly count: number
  /** The seqs of the records behind the finding, ascending, up to {@link MAX_CITED}. */
  readonly seqs: readonly number[]
}

/**
 * The stable id of an episode.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review (findings can be tracked across runs).
 *
 * @throws never.
 * @example
 * ```ts
 * findingId('ehr-prod', 'bulk-access', rules.detectors['bulk-access'].hash, 'Practitioner/7', 1042)
 * ```
 */
export function findingId(
  stream: string,
  detector: DetectorName,
  rule: string,
  key: string,
  firstSeq: number,
): string {
  return `fnd_${base32(sha256(canonicalBytes({ stream, detector, rule, key, firstSeq })).subarray(0, 20))}`
}

const ORDER = new Map(DETECTOR_NAMES.map((n, i) => [n, i]))

/**
 * The output order: first cited seq, then detector (in {@link DETECTORS} order), then id.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review (deterministic output).
 *
 * @throws never.
 * @example
 * ```ts
 * findings.sort(compareFindings)
 * ```
 */
export function compareFindings(a: Finding, b: Finding): number {
  const s = (a.seqs[0] ?? 0) - (b.seqs[0] ?? 0)
  if (s !== 0) return s
  const d = (ORDER.get(a.detector) ?? 0) - (ORDER.get(b.detector) ?? 0)
  if (d !== 0) return d
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}
