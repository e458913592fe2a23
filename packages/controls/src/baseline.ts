/**
 * The evidence baseline: the thresholds every gathered artefact is judged against, each with the
 * source it comes from (HIPAA, NIST SP 800-63B rev 4, NIST SP 800-52r2, NIST SP 800-57, OWASP), and
 * the roles with PHI access. A team tightens or loosens a threshold in a baseline file (JSON, or
 * YAML when the text does not start with `{`) and must give the reason; the report records every
 * change with its reason. Every refusal is a {@link BaselineError} carrying the RFC 6901 JSON
 * Pointer of the member.
 *
 * ```yaml
 * version: 1
 * name: clinic-2026
 * phiRoles: [nurse, physician, front_desk, billing]
 * thresholds:
 *   session.idleTimeout: { value: 10m, reason: risk analysis 2026-03, shared workstations }
 *   backup.rpo: { value: 36h, reason: nightly job runs at 02:00; RPO agreed with the board }
 * ```
 *
 * @module
 */
import { canonicalize, sha256Hex } from '@safeguards/core'
import { parse as parseYaml } from 'yaml'
import { BaselineError } from './errors.js'

/** The identifier of a threshold. */
export type ThresholdId =
  | 'session.idleTimeout'
  | 'session.absoluteTimeout'
  | 'password.minLength'
  | 'password.minLengthWithMfa'
  | 'password.blocklist'
  | 'password.rehash'
  | 'mfa.phiRoles'
  | 'mfa.enrolledShare'
  | 'keys.rotationPeriod'
  | 'keys.budgetShare'
  | 'auditLog.signatures'
  | 'auditLog.anchor'
  | 'auditLog.anchorLag'
  | 'activityReview.period'
  | 'activityReview.openFindings'
  | 'backup.rpo'
  | 'backup.restoreTestPeriod'
  | 'transit.minTls'

/**
 * How a threshold's value is read and compared: `max-ms` / `max` (the measured value must not
 * exceed it), `min` (must reach it), `share` (a fraction 0..1, must reach it; `max-share`: must not
 * exceed it), `required` (a boolean: `true` requires the property), `tls` (a minimum TLS version).
 */
export type ThresholdKind = 'max-ms' | 'max' | 'min' | 'share' | 'max-share' | 'required' | 'tls'

/** The value of a threshold: milliseconds, a count, a fraction, a requirement, or a TLS version. */
export type ThresholdValue = number | boolean | 'TLSv1.2' | 'TLSv1.3'

/** One threshold in force. */
export interface Threshold {
  readonly id: ThresholdId
  readonly kind: ThresholdKind
  readonly value: ThresholdValue
  /** Where the default comes from, for example `NIST SP 800-63B rev 4 §2.3.3 (AAL3)`. */
  readonly source: string
}

/** A threshold the baseline file changed, with the team's reason. */
export interface BaselineAdjustment {
  readonly id: ThresholdId
  readonly from: ThresholdValue
  readonly to: ThresholdValue
  readonly direction: 'tightened' | 'loosened' | 'unchanged'
  readonly reason: string
}

/** A validated baseline: every threshold present, and the changes made to the defaults. */
export interface Baseline {
  readonly version: 1
  readonly name: string
  /** Roles with PHI access; `'*'` (default) means every role of the session policy. */
  readonly phiRoles: readonly string[] | '*'
  readonly thresholds: Readonly<Record<ThresholdId, Threshold>>
  readonly adjustments: readonly BaselineAdjustment[]
  /** SHA-256 (hex) of the canonical JSON of the name, roles and thresholds. */
  readonly hash: string
}

const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR
const SP63B = 'NIST SP 800-63B rev 4'

/** The defaults: [kind, value, source] per threshold. */
const DEFAULTS: Readonly<Record<ThresholdId, readonly [ThresholdKind, ThresholdValue, string]>> = {
  'session.idleTimeout': ['max-ms', 15 * MIN, `${SP63B} §2.3.3 (AAL3 inactivity); HIPAA 164.312(a)(2)(iii)`],
  'session.absoluteTimeout': ['max-ms', 12 * HOUR, `${SP63B} §2.3.3 (AAL3 reauthentication)`],
  'password.minLength': ['min', 15, `${SP63B} §3.1.1.2 (password as the only factor)`],
  'password.minLengthWithMfa': ['min', 8, `${SP63B} §3.1.1.2 (password within MFA)`],
  'password.blocklist': ['required', true, `${SP63B} §3.1.1.2 (blocklist of common passwords)`],
  'password.rehash': ['required', true, 'OWASP Password Storage Cheat Sheet (upgrade legacy hashes)'],
  'mfa.phiRoles': ['required', true, `${SP63B} §2.2 (AAL2 needs two factors); HIPAA 164.312(d)`],
  'mfa.enrolledShare': ['share', 1, `${SP63B} §2.2; HIPAA 164.312(d)`],
  'keys.rotationPeriod': [
    'max-ms',
    730 * DAY,
    'NIST SP 800-57 Part 1 rev 5 §5.3.6 (key-wrapping key: at most 2 years)',
  ],
  'keys.budgetShare': ['max-share', 0.8, 'NIST SP 800-38D §8.3 (2^32 random-IV invocations per key)'],
  'auditLog.signatures': ['required', true, 'HIPAA 164.312(b), 164.312(c)(1); NIST SP 800-53 AU-9(3)'],
  'auditLog.anchor': ['required', true, 'HIPAA 164.312(b); NIST SP 800-53 AU-9(2), AU-10'],
  'auditLog.anchorLag': [
    'max',
    1000,
    'engineering default: about one checkpoint interval of records not yet anchored',
  ],
  'activityReview.period': ['max-ms', 7 * DAY, 'HIPAA 164.308(a)(1)(ii)(D) ("regularly review")'],
  'activityReview.openFindings': ['max', 0, 'HIPAA 164.308(a)(1)(ii)(D), 164.308(a)(6)(ii)'],
  'backup.rpo': ['max-ms', 24 * HOUR, 'HIPAA 164.308(a)(7)(ii)(A); NIST SP 800-53 CP-9'],
  'backup.restoreTestPeriod': ['max-ms', 90 * DAY, 'HIPAA 164.308(a)(7)(ii)(D); NIST SP 800-53 CP-4'],
  'transit.minTls': ['tls', 'TLSv1.2', 'NIST SP 800-52r2 §3.1 (TLS 1.2 minimum, TLS 1.3 supported)'],
}

/** Every threshold id, in report order. */
export const THRESHOLD_IDS: readonly ThresholdId[] = Object.freeze(Object.keys(DEFAULTS) as ThresholdId[])

const esc = (k: string): string => k.replaceAll('~', '~0').replaceAll('/', '~1')

function objectAt(v: unknown, pointer: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new BaselineError('expected an object', pointer)
  return v as Record<string, unknown>
}

function only(o: Record<string, unknown>, keys: readonly string[], pointer: string): void {
  for (const k of Object.keys(o))
    if (!keys.includes(k)) throw new BaselineError(`unknown member "${k}"`, `${pointer}/${esc(k)}`)
}

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: MIN, h: HOUR, d: DAY }

/** A duration: milliseconds, or `"90s"`, `"15m"`, `"24h"`, `"90d"`. */
function durationAt(v: unknown, pointer: string): number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) return v
  const m = typeof v === 'string' ? /^(\d{1,9})(ms|s|m|h|d)$/.exec(v) : null
  if (m === null) throw new BaselineError('expected a positive duration such as "15m" or "24h"', pointer)
  return Number(m[1]) * (UNITS[m[2] as string] as number)
}

function valueAt(kind: ThresholdKind, v: unknown, pointer: string): ThresholdValue {
  switch (kind) {
    case 'max-ms':
      return durationAt(v, pointer)
    case 'max':
    case 'min':
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
        throw new BaselineError('expected a non-negative integer', pointer)
      return v
    case 'share':
    case 'max-share':
      if (typeof v !== 'number' || !(v >= 0 && v <= 1))
        throw new BaselineError('expected a fraction between 0 and 1', pointer)
      return v
    case 'required':
      if (typeof v !== 'boolean') throw new BaselineError('expected true or false', pointer)
      return v
    case 'tls':
      if (v !== 'TLSv1.2' && v !== 'TLSv1.3')
        throw new BaselineError('expected "TLSv1.2" or "TLSv1.3"', pointer)
      return v
  }
}

/** Which way a change goes: a smaller maximum, a larger minimum, a requirement added, are tighter. */
function direction(
  kind: ThresholdKind,
  from: ThresholdValue,
  to: ThresholdValue,
): BaselineAdjustment['direction'] {
  if (from === to) return 'unchanged'
  const rank = (v: ThresholdValue): number =>
    typeof v === 'boolean' ? Number(v) : v === 'TLSv1.2' ? 2 : v === 'TLSv1.3' ? 3 : v
  const tighter =
    kind === 'max-ms' || kind === 'max' || kind === 'max-share'
      ? rank(to) < rank(from)
      : rank(to) > rank(from)
  return tighter ? 'tightened' : 'loosened'
}

function rolesAt(v: unknown, pointer: string): readonly string[] | '*' {
  if (v === undefined || v === '*') return '*'
  if (!Array.isArray(v) || v.length === 0)
    throw new BaselineError('expected "*" or a non-empty list of role names', pointer)
  return Object.freeze(
    v.map((r, i) => {
      if (typeof r !== 'string' || r === '' || r.length > 128)
        throw new BaselineError('expected a role name', `${pointer}/${i}`)
      return r
    }),
  )
}

/**
 * Validates a baseline document (already parsed) and fills in the defaults. A threshold is given
 * as `{ "value": …, "reason": "…" }`; the reason is required and is recorded in the report.
 *
 * HIPAA: 164.308(a)(8) evaluation (the criteria it judges by, versioned by hash); 164.316(b)(1)
 * documentation (why a threshold differs from its source).
 *
 * @hipaa 164.308(a)(8) supports
 * @evidence the baseline in force: every threshold with its source, and each team change with its reason
 * @appResponsibility Set the thresholds from your risk analysis (164.308(a)(1)(ii)(A)) and record why each differs from its source.
 * @verifiedBy packages/controls/test/evidence-baseline.test.ts
 * @throws {BaselineError} (`ERR_EVIDENCE_BASELINE`) with the JSON pointer of the first bad member.
 * @example
 * ```ts
 * const b = compileBaseline({ version: 1, thresholds: { 'backup.rpo': { value: '36h', reason: 'nightly at 02:00' } } })
 * b.adjustments[0]?.direction // 'loosened'
 * ```
 */
export function compileBaseline(doc: unknown): Baseline {
  const o = objectAt(doc, '')
  only(o, ['version', 'name', 'phiRoles', 'thresholds'], '')
  if (o.version !== undefined && o.version !== 1) throw new BaselineError('version must be 1', '/version')
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name === '' || o.name.length > 128))
    throw new BaselineError('expected a name of 1-128 characters', '/name')
  const phiRoles = rolesAt(o.phiRoles, '/phiRoles')
  const given = o.thresholds === undefined ? {} : objectAt(o.thresholds, '/thresholds')
  only(given, THRESHOLD_IDS, '/thresholds')
  const thresholds = {} as Record<ThresholdId, Threshold>
  const adjustments: BaselineAdjustment[] = []
  for (const id of THRESHOLD_IDS) {
    const [kind, value, source] = DEFAULTS[id]
    const at = `/thresholds/${esc(id)}`
    const g = given[id]
    if (g === undefined) {
      thresholds[id] = Object.freeze({ id, kind, value, source })
      continue
    }
    const t = objectAt(g, at)
    only(t, ['value', 'reason'], at)
    const to = valueAt(kind, t.value, `${at}/value`)
    if (typeof t.reason !== 'string' || t.reason.trim() === '' || t.reason.length > 500)
      throw new BaselineError('a reason (1-500 characters) is required for every change', `${at}/reason`)
    thresholds[id] = Object.freeze({ id, kind, value: to, source: `${source}; changed by the baseline` })
    adjustments.push(
      Object.freeze({ id, from: value, to, direction: direction(kind, value, to), reason: t.reason }),
    )
  }
  return freeze(typeof o.name === 'string' ? o.name : 'safeguards-default', phiRoles, thresholds, adjustments)
}

function freeze(
  name: string,
  phiRoles: Baseline['phiRoles'],
  thresholds: Record<ThresholdId, Threshold>,
  adjustments: readonly BaselineAdjustment[],
): Baseline {
  return Object.freeze({
    version: 1 as const,
    name,
    phiRoles,
    thresholds: Object.freeze(thresholds),
    adjustments: Object.freeze([...adjustments]),
    hash: sha256Hex(canonicalize({ name, phiRoles, thresholds })),
  })
}

/**
 * A copy of the baseline with one threshold changed and the change recorded with its reason (for
 * options that set a threshold, such as `--max-key-age`).
 *
 * HIPAA: 164.308(a)(8) evaluation.
 *
 * @throws {BaselineError} (`ERR_EVIDENCE_BASELINE`) when the value does not fit the threshold.
 * @example
 * ```ts
 * withThreshold(defaultBaseline(), 'keys.rotationPeriod', 365 * 86_400_000, '--max-key-age')
 * ```
 */
export function withThreshold(
  baseline: Baseline,
  id: ThresholdId,
  value: ThresholdValue,
  reason: string,
): Baseline {
  const old = baseline.thresholds[id]
  const at = `/thresholds/${esc(id)}/value`
  const to = valueAt(old.kind, value, at)
  const thresholds = { ...baseline.thresholds, [id]: Object.freeze({ ...old, value: to }) }
  const adjustment = Object.freeze({
    id,
    from: old.value,
    to,
    direction: direction(old.kind, old.value, to),
    reason,
  })
  return freeze(baseline.name, baseline.phiRoles, thresholds, [
    ...baseline.adjustments.filter((a) => a.id !== id),
    adjustment,
  ])
}

/**
 * Parses a baseline file (JSON, or YAML when the text does not start with `{`) and validates it
 * with {@link compileBaseline}.
 *
 * HIPAA: 164.308(a)(8) evaluation.
 *
 * @throws {BaselineError} (`ERR_EVIDENCE_BASELINE`) when the text does not parse (pointer `''`)
 * or a member is invalid (its pointer).
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs'
 * const baseline = parseBaseline(readFileSync('baseline.yaml', 'utf8'))
 * ```
 */
export function parseBaseline(text: string): Baseline {
  if (typeof text !== 'string') throw new TypeError('"text" expected a string')
  const json = text.trimStart().startsWith('{')
  let doc: unknown
  try {
    doc = json ? JSON.parse(text) : parseYaml(text, { uniqueKeys: true, schema: 'core' })
  } catch {
    throw new BaselineError(json ? 'the baseline is not valid JSON' : 'the baseline is not valid YAML', '')
  }
  return compileBaseline(doc ?? {})
}

/**
 * The default baseline: every threshold at its source's value, every role treated as a PHI role.
 *
 * HIPAA: 164.308(a)(8) evaluation.
 *
 * @throws never.
 * @example
 * ```ts
 * defaultBaseline().thresholds['session.idleTimeout'].value // 900000
 * ```
 */
export function defaultBaseline(): Baseline {
  return compileBaseline({})
}
