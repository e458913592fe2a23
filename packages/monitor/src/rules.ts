/**
 * The rules file: which detectors run, their thresholds, windows and severities, the site's time
 * zone, work schedules and the restricted-patient list. JSON or YAML, validated member by member:
 * every refusal is a {@link MonitorRulesError} carrying the RFC 6901 JSON Pointer of the member.
 *
 * ```json
 * {
 *   "version": 1,
 *   "timeZone": "America/Chicago",
 *   "detectors": {
 *     "bulk-access": { "threshold": 80, "window": "60m", "severity": "high" },
 *     "off-hours-access": { "from": "21:00", "to": "07:00" },
 *     "dormant-account": { "enabled": false }
 *   },
 *   "schedules": { "roles": { "night-nurse": [{ "from": "19:00", "to": "07:30" }] } },
 *   "restricted": { "Patient/vip-1": ["Practitioner/7"] }
 * }
 * ```
 * A window is a positive number of seconds or a string such as `"90s"`, `"10m"`, `"24h"`, `"90d"`.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review (what is reviewed is configuration, versioned by its
 * hash in every finding id).
 *
 * @module
 */
import { canonicalize, sha256Hex } from '@safeguards/core'
import { parse as parseYaml } from 'yaml'
import { DETECTORS, type DetectorKind, type DetectorName, SEVERITIES, type Severity } from './detectors.js'
import { MonitorRulesError } from './errors.js'
import { parseClock, type Shift, validateShifts } from './schedule.js'
import { isDefaultVocabulary, type Vocabulary, vocabularyAt } from './vocabulary.js'

/** One detector's effective settings. */
export interface DetectorRule {
  readonly name: DetectorName
  readonly kind: DetectorKind
  readonly enabled: boolean
  readonly severity: Severity
  readonly threshold: number
  readonly windowMs: number
  /** SHA-256 (hex) of the canonical JSON of everything that decides this detector's findings. */
  readonly hash: string
}

/**
 * A validated rule set, every detector present with its effective settings.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review.
 *
 * @example
 * ```ts
 * const rules: RuleSet = parseRules('{"version":1}')
 * rules.detectors['bulk-access'].threshold // 50
 * ```
 */
export interface RuleSet {
  readonly version: 1
  /** IANA time zone of the site (off-hours). Default `UTC`. */
  readonly timeZone: string
  /** The night, in minutes after local midnight: `from` (default 22:00) to `to` (default 06:00). */
  readonly night: { readonly from: number; readonly to: number }
  readonly detectors: Readonly<Record<DetectorName, DetectorRule>>
  /** Work schedules by user (`who`) and by role code. */
  readonly schedules: {
    readonly users: Readonly<Record<string, readonly Shift[]>>
    readonly roles: Readonly<Record<string, readonly Shift[]>>
  }
  /** Restricted patients and, for each, the users allowed to access them. */
  readonly restricted: Readonly<Record<string, readonly string[]>>
  /** How events are read (sign-ins, failures, emergencies); the default unless the file maps codes. */
  readonly vocabulary: Vocabulary
  /** SHA-256 (hex) of the whole effective rule set. */
  readonly hash: string
}

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const esc = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1')
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

function only(o: Json, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(o).sort())
    if (!allowed.includes(k)) throw new MonitorRulesError(`unknown member "${k}"`, `${path}/${esc(k)}`)
}

function objectAt(v: unknown, path: string): Json {
  if (!isObject(v)) throw new MonitorRulesError('expected an object', path)
  return v
}

/** A window: positive seconds, or `<n>ms|s|m|h|d`. */
function windowAt(v: unknown, path: string): number {
  let ms: number
  if (typeof v === 'number') ms = v * 1000
  else if (typeof v === 'string' && /^-?\d+(ms|s|m|h|d)$/.test(v)) {
    const unit = /(ms|s|m|h|d)$/.exec(v)?.[1] as string
    ms = Number(v.slice(0, -unit.length)) * (UNITS[unit] as number)
  } else throw new MonitorRulesError('a window is seconds or a duration such as "10m"', path)
  if (!Number.isFinite(ms) || ms < 0) throw new MonitorRulesError('a window cannot be negative', path)
  if (ms === 0) throw new MonitorRulesError('a window must be longer than zero', path)
  if (!Number.isSafeInteger(ms)) throw new MonitorRulesError('the window is too long', path)
  return ms
}

function thresholdAt(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v))
    throw new MonitorRulesError('a threshold is an integer', path)
  if (v < 1) throw new MonitorRulesError('a threshold must be at least 1', path)
  return v
}

function timeZoneAt(v: unknown, path: string): string {
  if (typeof v !== 'string') throw new MonitorRulesError('a time zone is an IANA name', path)
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: v })
  } catch {
    throw new MonitorRulesError('unknown IANA time zone', path)
  }
  return v
}

function stringMap(v: unknown, path: string): Record<string, readonly string[]> {
  const o = objectAt(v, path)
  const out: Record<string, readonly string[]> = {}
  for (const k of Object.keys(o).sort()) {
    const list = o[k]
    if (!Array.isArray(list) || !list.every((x) => typeof x === 'string'))
      throw new MonitorRulesError('expected an array of identifiers', `${path}/${esc(k)}`)
    out[k] = [...(list as string[])].sort()
  }
  return out
}

function shiftMap(v: unknown, path: string): Record<string, readonly Shift[]> {
  const o = objectAt(v, path)
  const out: Record<string, readonly Shift[]> = {}
  for (const k of Object.keys(o).sort()) out[k] = validateShifts(o[k], `${path}/${esc(k)}`)
  return out
}

interface RuleContext {
  vocabulary: Vocabulary
  timeZone: string
  night: { from: number; to: number }
  schedules: RuleSet['schedules']
  restricted: RuleSet['restricted']
}

/** What else, beyond its own settings, decides a detector's findings (part of its hash). */
function extraOf(name: DetectorName, ctx: RuleContext): unknown {
  // A mapped vocabulary changes what every detector sees; the default is left out of the hashes, so
  // finding ids stay what they were before vocabularies could be mapped.
  if (!isDefaultVocabulary(ctx.vocabulary))
    return { vocabulary: ctx.vocabulary, of: extraOfDefault(name, ctx) }
  return extraOfDefault(name, ctx)
}

function extraOfDefault(name: DetectorName, ctx: RuleContext): unknown {
  if (name === 'off-hours-access')
    return { timeZone: ctx.timeZone, night: ctx.night, schedules: ctx.schedules }
  if (name === 'restricted-patient') return { restricted: ctx.restricted }
  return null
}

function detectorRule(name: DetectorName, raw: unknown, path: string, ctx: RuleContext): DetectorRule {
  const spec = DETECTORS.find((d) => d.name === name) as (typeof DETECTORS)[number]
  const o = raw === undefined ? {} : objectAt(raw, path)
  const allowed = ['enabled', 'severity', 'window']
  if (spec.kind !== 'event') allowed.push('threshold')
  if (name === 'off-hours-access') allowed.push('from', 'to')
  only(o, allowed, path)
  if (o.enabled !== undefined && typeof o.enabled !== 'boolean')
    throw new MonitorRulesError('"enabled" is true or false', `${path}/enabled`)
  if (o.severity !== undefined && !SEVERITIES.includes(o.severity as Severity))
    throw new MonitorRulesError(`a severity is one of ${SEVERITIES.join(', ')}`, `${path}/severity`)
  if (name === 'off-hours-access') {
    if (o.from !== undefined) ctx.night.from = parseClock(o.from, `${path}/from`)
    if (o.to !== undefined) ctx.night.to = parseClock(o.to, `${path}/to`)
  }
  const settings = {
    name,
    kind: spec.kind,
    enabled: (o.enabled as boolean | undefined) ?? true,
    severity: (o.severity as Severity | undefined) ?? spec.severity,
    threshold: o.threshold === undefined ? spec.threshold : thresholdAt(o.threshold, `${path}/threshold`),
    windowMs: o.window === undefined ? spec.windowMs : windowAt(o.window, `${path}/window`),
  }
  return { ...settings, hash: sha256Hex(canonicalize({ ...settings, extra: extraOf(name, ctx) })) }
}

/**
 * Validates a parsed rules document (an object) into a {@link RuleSet}; members left out take the
 * issue's defaults.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review.
 *
 * @throws {MonitorRulesError} (`ERR_MONITOR_RULES`) with the JSON Pointer of the first bad member:
 * an unknown detector or member, a negative or zero window, a threshold below 1, a bad severity,
 * time zone, clock time or schedule.
 * @example
 * ```ts
 * const rules = compileRules({ version: 1, detectors: { 'denied-burst': { threshold: 20 } } })
 * ```
 */
export function compileRules(doc: unknown): RuleSet {
  const o = objectAt(doc, '')
  only(o, ['version', 'timeZone', 'detectors', 'schedules', 'restricted', 'vocabulary'], '')
  if (o.version !== undefined && o.version !== 1) throw new MonitorRulesError('version must be 1', '/version')
  const sched = o.schedules === undefined ? {} : objectAt(o.schedules, '/schedules')
  only(sched, ['users', 'roles'], '/schedules')
  const ctx: RuleContext = {
    vocabulary: vocabularyAt(o.vocabulary, '/vocabulary'),
    timeZone: o.timeZone === undefined ? 'UTC' : timeZoneAt(o.timeZone, '/timeZone'),
    night: { from: 22 * 60, to: 6 * 60 },
    schedules: {
      users: sched.users === undefined ? {} : shiftMap(sched.users, '/schedules/users'),
      roles: sched.roles === undefined ? {} : shiftMap(sched.roles, '/schedules/roles'),
    },
    restricted: o.restricted === undefined ? {} : stringMap(o.restricted, '/restricted'),
  }
  const given = o.detectors === undefined ? {} : objectAt(o.detectors, '/detectors')
  for (const k of Object.keys(given).sort())
    if (!DETECTORS.some((d) => d.name === k))
      throw new MonitorRulesError(`unknown detector "${k}"`, `/detectors/${esc(k)}`)
  // off-hours first: its night bounds are part of its own hash.
  const detectors = {} as Record<DetectorName, DetectorRule>
  for (const d of DETECTORS)
    detectors[d.name] = detectorRule(d.name, given[d.name], `/detectors/${d.name}`, ctx)
  const { vocabulary, ...rest } = ctx
  const body = { version: 1 as const, ...rest, detectors }
  const hashed = isDefaultVocabulary(vocabulary) ? body : { ...body, vocabulary }
  return { ...body, vocabulary, hash: sha256Hex(canonicalize(hashed)) }
}

/**
 * Parses a rules file (JSON, or YAML when the text does not start with `{`) and validates it.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review.
 *
 * @throws {MonitorRulesError} (`ERR_MONITOR_RULES`) when the text does not parse (pointer `''`)
 * or a member is invalid (its pointer).
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs'
 * const rules = parseRules(readFileSync('rules.yaml', 'utf8'))
 * ```
 */
export function parseRules(text: string): RuleSet {
  let doc: unknown
  const json = text.trimStart().startsWith('{')
  try {
    doc = json ? JSON.parse(text) : parseYaml(text, { uniqueKeys: true, schema: 'core' })
  } catch {
    throw new MonitorRulesError(
      json ? 'the rules file is not valid JSON' : 'the rules file is not valid YAML',
      '',
    )
  }
  return compileRules(doc ?? {})
}

/**
 * The default rule set: every detector on, with the thresholds and windows, UTC.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review.
 *
 * @throws never.
 * @example
 * ```ts
 * defaultRules().detectors['failed-sign-in-burst'] // { threshold: 5, windowMs: 600000, … }
 * ```
 */
export function defaultRules(): RuleSet {
  return compileRules({})
}
