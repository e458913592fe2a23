/**
 * The judges of access: session timeouts per role, the password policy, MFA, and key versions
 * (see `evidence-judge.ts`).
 */
import type { Baseline } from '../baseline.js'
import type { JudgedSections, Verdict } from '../evidence-judge.js'
import { human } from './human.js'
import { dur, pass, type T } from './judge-format.js'

export function session(s: JudgedSections['sessionPolicy'], b: Baseline): Verdict[] {
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

export function password(p: JudgedSections['passwordPolicy'], t: T): Verdict[] {
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

export function mfa(s: JudgedSections, b: Baseline): Verdict[] {
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

export function keys(k: JudgedSections['keys'], t: T): Verdict[] {
  if (k === null) return []
  const live = k.versions.filter((v) => !v.retired && v.state !== 'destroyed')
  const primary = live.find((v) => v.state === 'primary')
  const hipaa = ['164.312(a)(2)(iv)']
  return [rotationVerdict(k, t, live, primary, hipaa), budgetVerdict(t, live, primary, hipaa)]
}

type KeyVersion = NonNullable<JudgedSections['keys']>['versions'][number]

/** `keys.rotationPeriod`: an active primary, and every live version younger than the period. */
function rotationVerdict(
  k: NonNullable<JudgedSections['keys']>,
  t: T,
  live: readonly KeyVersion[],
  primary: KeyVersion | undefined,
  hipaa: string[],
): Verdict {
  const period = t('keys.rotationPeriod').value as number
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
  return {
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
  }
}

/** `keys.budgetShare`: the most used live version's share of its wrap budget. */
function budgetVerdict(
  t: T,
  live: readonly KeyVersion[],
  primary: KeyVersion | undefined,
  hipaa: string[],
): Verdict {
  const limit = t('keys.budgetShare').value as number
  const used = live.map((v) => ({
    v,
    share:
      v.wraps === null || v.wrapLimit === null || v.wrapLimit === '0'
        ? null
        : Number(v.wraps) / Number(v.wrapLimit),
  }))
  const known = used.filter((u): u is { v: KeyVersion; share: number } => u.share !== null)
  const worst = known.reduce<{ v: KeyVersion; share: number } | null>(
    (w, u) => (w === null || u.share > w.share ? u : w),
    null,
  )
  const primaryUnknown = primary !== undefined && used.find((u) => u.v === primary)?.share === null
  return {
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
  }
}
