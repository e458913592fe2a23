/**
 * The rules both finding stores apply: argument checks, the self-review refusal, and the stored
 * shape of an admitted finding.
 *
 * @module
 */
import { MonitorSelfReviewError } from '../errors.js'
import type { Finding } from '../finding.js'
import { DISPOSITIONS, type Disposition, type FindingStatus } from '../lifecycle.js'

const ID = /^fnd_[a-z2-7]{32}$/
const REVIEWER = /^[^\s\p{Cc}]{1,256}$/u

/** Checks the arguments of acknowledge/suppress. */
export function checkReview(id: string, by: string, disposition?: Disposition): void {
  if (typeof id !== 'string' || !ID.test(id)) throw new TypeError('"id" expected a finding id (fnd_…)')
  if (typeof by !== 'string' || !REVIEWER.test(by))
    throw new TypeError('"by" expected a reviewer id (1-256 characters, no spaces)')
  if (disposition !== undefined && !DISPOSITIONS.includes(disposition))
    throw new TypeError(`"disposition" expected one of ${DISPOSITIONS.join(', ')}`)
}

/** Refuses a review by the finding's own subject. */
export function refuseSelfReview(status: FindingStatus, by: string): void {
  if (status.who !== undefined && status.who === by) throw new MonitorSelfReviewError(status.id)
}

/** Checks a suppression time. */
export function checkUntil(until: number, now: number): void {
  if (!Number.isSafeInteger(until)) throw new TypeError('"until" expected milliseconds since the epoch')
  if (until <= now) throw new RangeError('"until" must be later than now')
}

/** The stored part of a finding (ids and codes; no patients, seqs or times of the records). */
export function statusOf(f: Finding, at: string): FindingStatus {
  return {
    id: f.id,
    detector: f.detector,
    severity: f.severity,
    ...(f.who === undefined ? {} : { who: f.who }),
    state: 'new',
    firstSeen: at,
    at,
  }
}

/** Distinct findings by id, first occurrence kept, validated. */
export function distinctFindings(findings: readonly Finding[]): Finding[] {
  if (!Array.isArray(findings)) throw new TypeError('"findings" expected an array')
  const seen = new Set<string>()
  const out: Finding[] = []
  for (const f of findings) {
    if (typeof f?.id !== 'string' || !ID.test(f.id)) throw new TypeError('a finding has no valid id')
    if (seen.has(f.id)) continue
    seen.add(f.id)
    out.push(f)
  }
  return out
}

/** RFC 3339 UTC with milliseconds. */
export const iso = (ms: number): string => new Date(ms).toISOString()

/** Sort order of {@link FindingStore.list}. */
export function compareStatus(a: FindingStatus, b: FindingStatus): number {
  if (a.firstSeen !== b.firstSeen) return a.firstSeen < b.firstSeen ? -1 : 1
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}
