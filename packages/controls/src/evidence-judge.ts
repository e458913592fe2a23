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
import type { Baseline, ThresholdId } from './baseline.js'
import { hipaaCatalog } from './catalog.js'
import type { EvidenceReport } from './evidence.js'
import { human } from './internal/human.js'

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

/** `met`, or `partly met` when the value was only declared. */
const pass = (declared: boolean): Verdict['status'] => (declared ? 'partly met' : 'met')

const dur = (ms: number): string => `${human(ms)} (${ms} ms)`

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
  const t = (id: ThresholdId): { value: number | boolean | string; source: string } => baseline.thresholds[id]
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

type T = (id: ThresholdId) => { value: number | boolean | string; source: string }

function session(s: JudgedSections['sessionPolicy'], b: Baseline): Verdict[] {
  if (s === null) return []
  const roles = b.phiRoles === '*' ? ['*', ...Object.keys(s.roles).sort()] : [...b.phiRoles]
  const out: Verdict[] = []
  const declared = s.declared === true
  for (const role of roles) {
    const own = role === '*' ? undefined : s.roles[role]
    const t = own ?? s.defaults
    const who = role === '*' ? 'default (roles without their own timeouts)' : `role ${role}`
    const where = own === undefined ? 'the default' : `role "${role}"`
    for (const [id, field, word] of [
      ['session.idleTimeout', 'idleTimeoutMs', 'idle'],
      ['session.absoluteTimeout', 'absoluteTimeoutMs', 'absolute'],
    ] as const) {
      const max = b.thresholds[id].value as number
      const v = t[field]
      const over = v > max
      out.push({
        check: `${id}[${role}]`,
        area: 'session',
        hipaa: ['164.312(a)(2)(iii)'],
        status: over ? 'not met' : pass(declared),
        basis: declared ? 'declared' : 'measured',
        measured: `${who}: ${word} ${dur(v)}${declared ? ' (library defaults, not read from the application)' : ''}`,
        threshold: `${word} ≤ ${dur(max)} for roles with PHI access`,
        source: b.thresholds[id].source,
        remediation: over
          ? `Set ${field} of ${where} to at most ${max} (${human(max)}) in the session policy.`
          : declared
            ? 'Give the session policy the application loads (--session-policy), so it is measured.'
            : '',
      })
    }
  }
  return out
}

function password(p: JudgedSections['passwordPolicy'], t: T): Verdict[] {
  if (p === null) return []
  const declared = p.declared !== false
  const basis = declared ? ('declared' as const) : ('measured' as const)
  const id = p.mfa ? 'password.minLengthWithMfa' : 'password.minLength'
  const need = t(id).value as number
  const hipaa = ['164.308(a)(5)(ii)(D)']
  const out: Verdict[] = [
    {
      check: 'password.minLength',
      area: 'password',
      hipaa,
      status: p.minLength < need ? 'not met' : pass(declared),
      basis,
      measured: `minimum ${p.minLength} characters (${p.mfa ? 'with a second factor' : 'password as the only factor'})`,
      threshold: `≥ ${need} characters ${p.mfa ? 'within MFA' : 'as the only factor'}`,
      source: t(id).source,
      remediation:
        p.minLength < need
          ? `Require at least ${need} characters (checkPasswordPolicy minLength).`
          : declared
            ? 'Declared by flags: attach the policy object the application passes to checkPasswordPolicy.'
            : '',
    },
  ]
  for (const [check, field, what, fix] of [
    [
      'password.blocklist',
      'blocklist',
      'blocklist of common passwords',
      'Check new passwords against a blocklist (checkPasswordPolicy blocklist).',
    ],
    [
      'password.rehash',
      'rehash',
      'rehash on sign-in when parameters are outdated',
      'Call passwordNeedsRehash after each successful verify and store the new hash.',
    ],
  ] as const) {
    const required = t(check).value === true
    const v = p[field]
    const status: Verdict['status'] = !required
      ? 'met'
      : v === false
        ? 'not met'
        : v === undefined
          ? 'partly met'
          : pass(declared)
    out.push({
      check,
      area: 'password',
      hipaa,
      status,
      basis: v === undefined ? 'declared' : basis,
      measured: `${what}: ${v === undefined ? 'not stated' : v ? 'yes' : 'no'}`,
      threshold: required ? 'required' : 'not required by the baseline',
      source: t(check).source,
      remediation:
        status === 'met'
          ? ''
          : v === false || v === undefined
            ? fix
            : 'Declared: attach evidence that it is enforced.',
    })
  }
  return out
}

function mfa(s: JudgedSections, b: Baseline): Verdict[] {
  const m = s.mfa
  if (m === null) return []
  const hipaa = ['164.312(d)']
  const phi =
    b.phiRoles === '*'
      ? s.sessionPolicy === null
        ? null
        : Object.keys(s.sessionPolicy.roles).sort()
      : [...b.phiRoles]
  const missing =
    m.requiredRoles === '*' || phi === null ? [] : phi.filter((r) => !m.requiredRoles.includes(r))
  const required = b.thresholds['mfa.phiRoles'].value === true
  const unknown = m.requiredRoles !== '*' && phi === null
  const out: Verdict[] = [
    {
      check: 'mfa.phiRoles',
      area: 'mfa',
      hipaa,
      status: !required ? 'met' : missing.length > 0 ? 'not met' : unknown ? 'partly met' : pass(m.declared),
      basis: m.declared ? 'declared' : 'measured',
      measured:
        m.requiredRoles === '*'
          ? 'MFA required for every role'
          : `MFA required for ${m.requiredRoles.length === 0 ? 'no role' : m.requiredRoles.join(', ')}${missing.length > 0 ? `; not for ${missing.join(', ')}` : ''}`,
      threshold: required ? 'MFA required for every role with PHI access' : 'not required by the baseline',
      source: b.thresholds['mfa.phiRoles'].source,
      remediation:
        missing.length > 0
          ? `Require a second factor for ${missing.join(', ')} before any PHI access.`
          : unknown
            ? 'Name the PHI roles (baseline phiRoles) or give the session policy, so every role can be checked.'
            : m.declared
              ? 'Declared: give the enrolment counts of the MFA store, so the share is measured.'
              : '',
    },
  ]
  if (m.enrollment !== null) {
    const { users, enrolled } = m.enrollment
    const share = users === 0 ? 1 : enrolled / users
    const need = b.thresholds['mfa.enrolledShare'].value as number
    out.push({
      check: 'mfa.enrolledShare',
      area: 'mfa',
      hipaa,
      status: share < need ? 'not met' : 'met',
      basis: 'measured',
      measured: `${enrolled} of ${users} users with PHI access enrolled (${Math.floor(share * 100)} %)`,
      threshold: `≥ ${Math.round(need * 100)} % enrolled`,
      source: b.thresholds['mfa.enrolledShare'].source,
      remediation:
        share < need ? `Enrol the ${users - enrolled} remaining users, or suspend their PHI access.` : '',
    })
  }
  return out
}

function keys(k: JudgedSections['keys'], t: T): Verdict[] {
  if (k === null) return []
  const hipaa = ['164.312(a)(2)(iv)']
  const period = t('keys.rotationPeriod').value as number
  const live = k.versions.filter((v) => !v.retired && v.state !== 'destroyed')
  const primary = live.find((v) => v.state === 'primary')
  const old = live.filter((v) => v.state !== 'primary' && v.ageMs !== null && v.ageMs > period)
  const unknownAge = live.filter((v) => v.ageMs === null)
  let status: Verdict['status'] = 'met'
  let remediation = ''
  if (primary === undefined) {
    status = 'not met'
    remediation = `Add and promote a key version in keyring "${k.keyring}".`
  } else if (primary.ageMs !== null && primary.ageMs > period) {
    status = 'not met'
    remediation = `Rotate: add and promote a new version, rewrap, then retire ${primary.keyRef}.`
  } else if (old.length > 0) {
    status = 'not met'
    remediation = `Rewrap the data still under ${old.map((v) => v.keyRef).join(', ')} and retire it.`
  } else if (unknownAge.length > 0) {
    status = 'partly met'
    remediation = `Record creation times for ${unknownAge.map((v) => v.keyRef).join(', ')} (an unknown age is not measured).`
  }
  const ages = live.map(
    (v) => `${v.keyRef} (${v.state}) ${v.ageMs === null ? 'age unknown' : human(v.ageMs)}`,
  )
  const out: Verdict[] = [
    {
      check: 'keys.rotationPeriod',
      area: 'keys',
      hipaa,
      status,
      basis: 'measured',
      measured:
        primary === undefined
          ? `no active primary version; ${ages.join(', ') || 'no live version'}`
          : ages.join(', '),
      threshold: `every live version younger than ${dur(period)}`,
      source: t('keys.rotationPeriod').source,
      remediation,
    },
  ]
  const limit = t('keys.budgetShare').value as number
  const used = live.map((v) => ({
    v,
    share:
      v.wraps === null || v.wrapLimit === null || v.wrapLimit === '0'
        ? null
        : Number(v.wraps) / Number(v.wrapLimit),
  }))
  const known = used.filter((u): u is { v: (typeof live)[number]; share: number } => u.share !== null)
  const worst = known.reduce<{ v: (typeof live)[number]; share: number } | null>(
    (w, u) => (w === null || u.share > w.share ? u : w),
    null,
  )
  const primaryUnknown = primary !== undefined && used.find((u) => u.v === primary)?.share === null
  out.push({
    check: 'keys.budgetShare',
    area: 'keys',
    hipaa,
    status:
      worst !== null && worst.share >= 1
        ? 'not met'
        : (worst !== null && worst.share > limit) || primaryUnknown
          ? 'partly met'
          : 'met',
    basis: 'measured',
    measured:
      worst === null
        ? 'usage not recorded'
        : `${worst.v.keyRef}: ${worst.v.wraps} of ${worst.v.wrapLimit} wraps (${(worst.share * 100).toFixed(4)} %)${primaryUnknown ? '; primary usage not recorded' : ''}`,
    threshold: `≤ ${Math.round(limit * 100)} % of each version's wrap budget`,
    source: t('keys.budgetShare').source,
    remediation:
      worst !== null && worst.share > limit
        ? `Rotate ${worst.v.keyRef} before its budget is spent.`
        : primaryUnknown
          ? 'Give the keyring a usage limit so wraps are counted.'
          : '',
  })
  return out
}

function auditLog(a: JudgedSections['auditLog'], t: T): Verdict[] {
  if (a === null) return []
  const hipaa = ['164.312(b)']
  const firstError = a.findings.find((f) => f.severity === 'error')
  const out: Verdict[] = [
    {
      check: 'auditLog.integrity',
      area: 'audit-log',
      hipaa: ['164.312(b)', '164.312(c)(1)'],
      status: a.ok ? 'met' : 'not met',
      basis: 'measured',
      measured: a.ok
        ? `${a.records} records verified through seq ${a.verifiedThroughSeq ?? 'none'}`
        : `verification failed at seq ${firstError?.seq ?? '?'} (${firstError?.code ?? 'error'})`,
      threshold: 'the whole chain verifies',
      source: 'HIPAA 164.312(b), 164.312(c)(1)',
      remediation: a.ok
        ? ''
        : 'Investigate the finding as a security incident (164.308(a)(6)) and restore the log from a verified copy.',
    },
  ]
  if (t('auditLog.signatures').value === true)
    out.push({
      check: 'auditLog.signatures',
      area: 'audit-log',
      hipaa,
      status: a.signaturesChecked && a.checkpoints.verified > 0 ? 'met' : 'partly met',
      basis: 'measured',
      measured: a.signaturesChecked
        ? `${a.checkpoints.verified} of ${a.checkpoints.total} checkpoints verified with trusted keys`
        : 'checkpoint signatures not checked (no public key given)',
      threshold: 'signed checkpoints verified with a trusted public key',
      source: t('auditLog.signatures').source,
      remediation:
        a.signaturesChecked && a.checkpoints.verified > 0
          ? ''
          : a.signaturesChecked
            ? 'Write signed checkpoints (checkpointEvery).'
            : 'Verify with the checkpoint public key (--public-key).',
    })
  if (t('auditLog.anchor').value === true) {
    const lagMax = t('auditLog.anchorLag').value as number
    const lag = a.anchorLagRecords
    out.push({
      check: 'auditLog.anchor',
      area: 'audit-log',
      hipaa,
      status: lag === null ? 'partly met' : lag > lagMax ? 'partly met' : 'met',
      basis: 'measured',
      measured:
        lag === null
          ? 'no anchored checkpoint verified'
          : `anchored through seq ${a.anchoredThroughSeq}; ${lag} records not yet anchored`,
      threshold: `anchored; at most ${lagMax} records behind the anchor`,
      source: `${t('auditLog.anchor').source}; lag: ${t('auditLog.anchorLag').source}`,
      remediation:
        lag === null
          ? 'Anchor checkpoints outside the log host (WORM) and verify against the anchor (--anchor).'
          : lag > lagMax
            ? 'Checkpoint and anchor more often (checkpointEvery).'
            : '',
    })
  }
  return out
}

function review(r: JudgedSections['activityReview'], t: T): Verdict[] {
  if (r === null) return []
  const hipaa = ['164.308(a)(1)(ii)(D)']
  const period = t('activityReview.period').value as number
  const late = r.ran && r.ageMs > period
  const out: Verdict[] = [
    {
      check: 'activityReview.period',
      area: 'activity-review',
      hipaa,
      status: !r.ran || late ? 'not met' : 'met',
      basis: 'measured',
      measured: r.ran
        ? `last run ${r.ranAt} (${human(r.ageMs)} ago), records ${r.from} to ${r.through - 1}`
        : 'no activity review recorded in the audit log',
      threshold: `a review within the last ${dur(period)}`,
      source: t('activityReview.period').source,
      remediation:
        !r.ran || late
          ? 'Run `safeguards audit review` on a schedule (at least once per period) and record it in the log.'
          : '',
    },
  ]
  if (r.totalOpenFindings !== undefined) {
    const max = t('activityReview.openFindings').value as number
    out.push({
      check: 'activityReview.openFindings',
      area: 'activity-review',
      hipaa: ['164.308(a)(1)(ii)(D)', '164.308(a)(6)(ii)'],
      status: r.totalOpenFindings > max ? 'partly met' : 'met',
      basis: 'measured',
      measured: `${r.totalOpenFindings} finding${r.totalOpenFindings === 1 ? '' : 's'} open`,
      threshold: `≤ ${max} open findings`,
      source: t('activityReview.openFindings').source,
      remediation:
        r.totalOpenFindings > max
          ? 'Triage the open findings (`safeguards audit findings`): acknowledge, resolve or suppress each with a reason.'
          : '',
    })
  }
  return out
}

function backups(bags: JudgedSections['backups'], t: T): Verdict[] {
  if (bags.length === 0) return []
  const out: Verdict[] = bags.map((b) => {
    const bad = b.status !== 'ok' || !b.signed
    return {
      check: `backup.integrity[${b.bagId ?? '?'}]`,
      area: 'backups' as const,
      hipaa: ['164.308(a)(7)(ii)(A)', '164.310(d)(2)(iv)'],
      status: bad ? ('not met' as const) : ('met' as const),
      basis: 'measured' as const,
      measured: `${b.status}, ${b.filesVerified}/${b.payloadFiles} files, ${b.signed ? `signed by ${b.signingKid}` : 'not signed'}${b.attestationSha256 === null ? '' : `, attestation sha256 ${b.attestationSha256}`}`,
      threshold: 'every file verified, attestation signed by a trusted key',
      source: 'HIPAA 164.308(a)(7)(ii)(A), 164.310(d)(2)(iv); NIST SP 800-53 CP-9(1)',
      remediation:
        b.status !== 'ok'
          ? 'Take a new backup and find why this one is incomplete or altered.'
          : bad
            ? 'Sign backups (backup create --sign-key) and verify with the public key.'
            : '',
    }
  })
  const rpo = t('backup.rpo').value as number
  const good = bags.filter((b) => b.status === 'ok')
  const newest = good.reduce<number | null>(
    (m, b) => (b.ageMs === null ? m : m === null ? b.ageMs : Math.min(m, b.ageMs)),
    null,
  )
  out.push({
    check: 'backup.rpo',
    area: 'backups',
    hipaa: ['164.308(a)(7)(ii)(A)'],
    status:
      newest === null ? (good.length === 0 ? 'not met' : 'partly met') : newest > rpo ? 'not met' : 'met',
    basis: 'measured',
    measured:
      newest === null
        ? good.length === 0
          ? 'no verified backup'
          : 'age unknown (no signed creation time)'
        : `newest verified backup ${dur(newest)} old`,
    threshold: `≤ ${dur(rpo)} (RPO)`,
    source: t('backup.rpo').source,
    remediation:
      newest === null || newest > rpo ? 'Take a signed backup at least once per RPO and verify it.' : '',
  })
  const period = t('backup.restoreTestPeriod').value as number
  const tested = bags.filter((b) => b.restoreTests.length > 0)
  const failed = tested.filter((b) => b.restoreTests.some((r) => !r.ok))
  const lastOk = tested
    .filter((b) => b.restoreTests.every((r) => r.ok))
    .map((b) => b.restoreTestAgeMs)
    .filter((a): a is number => a !== null)
    .sort((a, c) => a - c)[0]
  out.push({
    check: 'backup.restoreTest',
    area: 'backups',
    hipaa: ['164.308(a)(7)(ii)(D)'],
    status:
      failed.length > 0
        ? 'not met'
        : lastOk === undefined
          ? 'partly met'
          : lastOk > period
            ? 'not met'
            : 'met',
    basis: 'measured',
    measured:
      failed.length > 0
        ? `restore test failed on ${failed.map((b) => b.bagId).join(', ')}`
        : lastOk === undefined
          ? 'bags verified; no restore test recorded'
          : `last restore test ${human(lastOk)} ago`,
    threshold: `a passing restore test within ${dur(period)}`,
    source: t('backup.restoreTestPeriod').source,
    remediation:
      failed.length > 0 || lastOk === undefined || lastOk > period
        ? 'Run a restore test on a recent bag (verifyBag restoreTests) and record it.'
        : '',
  })
  return out
}

function transit(rows: JudgedSections['transit'], t: T): Verdict[] {
  if (rows === null) return []
  const min = t('transit.minTls').value as string
  return rows.map((r) => {
    const weak = (r.acceptedProtocols ?? []).filter((p) => tlsRank(p) < tlsRank(min))
    const status: Verdict['status'] =
      r.verdict === 'fail' || weak.length > 0 ? 'not met' : r.verdict === 'warn' ? 'partly met' : 'met'
    return {
      check: `transit[${r.endpoint}]`,
      area: 'transit' as const,
      hipaa: ['164.312(e)(1)', '164.312(e)(2)(i)', '164.312(e)(2)(ii)'],
      status,
      basis: 'measured' as const,
      measured: `${r.verdict}${r.acceptedProtocols === undefined ? '' : `; accepts ${r.acceptedProtocols.join(', ')}`}${r.reasons.length === 0 ? '' : `; ${r.reasons.join('; ')}`}`,
      threshold: `${min} or newer, AEAD suites with forward secrecy, a trusted unexpired certificate`,
      source: t('transit.minTls').source,
      remediation:
        status === 'met'
          ? ''
          : weak.length > 0
            ? `Disable ${weak.join(', ')} (tlsServerOptions()).`
            : 'Fix what the transit check reports (safeguards transit check).',
    }
  })
}

function tlsRank(p: string): number {
  const m = /(\d)\.(\d)$/.exec(p)
  return m === null ? 0 : Number(m[1]) * 10 + Number(m[2])
}
