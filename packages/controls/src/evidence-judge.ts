/**
 * Judging the gathered evidence against a {@link Baseline}: one verdict per check (`met`,
 * `partly met`, `not met`), each with the measured value, the threshold, its source and a one-line
 * remediation, and whether the value was measured or only declared (a declared value is never
 * `met` on its own). Then one status per HIPAA specification (the worst of its checks; `app team`
 * when the SDK measured nothing for it) and the counts per safeguard family.
 *
 * Pure: it reads the report sections and the baseline only.
 *
 * @module
 */
import type { Baseline } from './baseline.js'
import { hipaaCatalog } from './catalog.js'
import type { EvidenceReport } from './evidence.js'
import { keys, mfa, password, session } from './internal/judge-access.js'
import type { T } from './internal/judge-format.js'
import { auditLog, backups, review, transit } from './internal/judge-records.js'

/** A check's status; a specification with no check is `app team`. */
export type VerdictStatus = 'met' | 'partly met' | 'not met' | 'app team'

/** The safeguard families the summary counts. */
export type SafeguardFamily = 'administrative' | 'physical' | 'technical'

/** Which gathered artefact a check judges. */
export type EvidenceArea =
  | 'audit-log'
  | 'backups'
  | 'keys'
  | 'session'
  | 'password'
  | 'mfa'
  | 'activity-review'
  | 'transit'

/** One judged check. */
export interface Verdict {
  /** The check, for example `session.idleTimeout[nurse]`. */
  check: string
  area: EvidenceArea
  /** The HIPAA specifications it is evidence for (CFR paragraphs). */
  hipaa: string[]
  status: Exclude<VerdictStatus, 'app team'>
  /** `declared`: self-attested (flags, an undeclared property), never `met` on its own. */
  basis: 'measured' | 'declared'
  /** What was found, for example `role nurse: idle 24 h`. */
  measured: string
  /** What the baseline asks, for example `idle ≤ 15 min`. */
  threshold: string
  /** Where the threshold comes from. */
  source: string
  /** One line: what to do (empty when met). */
  remediation: string
}

/** One HIPAA specification and the worst status of its checks. */
export interface SpecificationVerdict {
  hipaa: string
  title: string
  family: SafeguardFamily
  status: VerdictStatus
  /** The checks behind the status (none for `app team`). */
  checks: string[]
}

/** Counts of specification statuses. */
export interface VerdictCounts {
  met: number
  partlyMet: number
  notMet: number
  appTeam: number
}

/** The verdicts, per specification, and the counts per family. */
export interface Judgement {
  verdicts: Verdict[]
  specifications: SpecificationVerdict[]
  summary: Record<SafeguardFamily, VerdictCounts>
}

/** The report sections {@link judgeEvidence} reads. */
export type JudgedSections = Pick<
  EvidenceReport,
  'auditLog' | 'backups' | 'keys' | 'sessionPolicy' | 'passwordPolicy' | 'activityReview' | 'mfa' | 'transit'
>

const FAMILIES: readonly SafeguardFamily[] = ['administrative', 'physical', 'technical']
const RANK: Readonly<Record<VerdictStatus, number>> = { 'app team': 0, met: 1, 'partly met': 2, 'not met': 3 }

/**
 * Judges the report's sections against the baseline, at `now` (milliseconds since the epoch).
 *
 * HIPAA: 164.308(a)(8) evaluation: a verdict per specification, with the reason and the fix.
 *
 * @hipaa 164.308(a)(8) supports
 * @evidence per HIPAA specification: met, partly met, not met or app team, with the measured value, the threshold, its source and a remediation; counts per safeguard family
 * @appResponsibility Act on every not met and partly met; the specifications marked app team need your own evidence.
 * @verifiedBy packages/controls/test/evidence-judge.test.ts
 * @throws never.
 * @example
 * ```ts
 * const { specifications } = judgeEvidence(report, defaultBaseline())
 * specifications.filter((s) => s.status === 'not met')
 * ```
 */
export function judgeEvidence(sections: JudgedSections, baseline: Baseline): Judgement {
  const t: T = (id) => baseline.thresholds[id]
  const verdicts: Verdict[] = [
    ...session(sections.sessionPolicy, baseline),
    ...password(sections.passwordPolicy, t),
    ...mfa(sections, baseline),
    ...keys(sections.keys, t),
    ...auditLog(sections.auditLog, t),
    ...review(sections.activityReview, t),
    ...backups(sections.backups, t),
    ...transit(sections.transit, t),
  ]
  return { verdicts, ...perSpecification(verdicts) }
}

/** The worst status per specification of the three families, and the counts. */
function perSpecification(verdicts: readonly Verdict[]): Omit<Judgement, 'verdicts'> {
  const specifications: SpecificationVerdict[] = []
  const summary = Object.fromEntries(
    FAMILIES.map((f) => [f, { met: 0, partlyMet: 0, notMet: 0, appTeam: 0 }]),
  ) as Record<SafeguardFamily, VerdictCounts>
  for (const c of hipaaCatalog) {
    const family = c.safeguard as SafeguardFamily
    if (
      !FAMILIES.includes(family) ||
      !['required', 'addressable', 'standard-required'].includes(c.designation)
    )
      continue
    const mine = verdicts.filter((v) => v.hipaa.includes(c.id))
    const status = mine.reduce<VerdictStatus>((w, v) => (RANK[v.status] > RANK[w] ? v.status : w), 'app team')
    specifications.push({ hipaa: c.id, title: c.title, family, status, checks: mine.map((v) => v.check) })
    const key = (
      { met: 'met', 'partly met': 'partlyMet', 'not met': 'notMet', 'app team': 'appTeam' } as const
    )[status]
    summary[family][key] += 1
  }
  return { specifications, summary }
}
