/**
 * `safeguards access lint|explain|test`: check an access policy, explain one decision, and run a
 * table of policy unit tests (for app teams' CI).
 *
 * In the CLI, relationship resolvers are answered from the request's `relationships` object
 * (`{ "careTeam": true }`); a relationship it does not answer is a condition error (fails closed).
 * `scopes` may be given as `{ "scope": "patient/Observation.rs", "patient": "p-1" }`, and
 * emergency-access grants a request invokes are read from `--grants FILE`.
 *
 * HIPAA: 164.308(a)(4) access authorization (policies are reviewable and testable before they ship).
 *
 * @module
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { IoError, manualClock, parseJson } from '@safeguards/core'
import {
  type AccessRequest,
  compilePolicy,
  createMemoryEmergencyStore,
  type Decision,
  type DecisionPoint,
  type EmergencyGrant,
  isEmergencyGrant,
  type PolicyDocument,
  type PolicyProblem,
  parsePolicyText,
  parseSmartScopes,
} from '@safeguards/rbac'
import { optionalString, parseCommandArgs, requireString } from '../args.js'
import type { CliIO, Command } from '../command.js'
import { CliExit, ExitCode, UsageError } from '../errors.js'
import { FLAG, optionSpecs, STRING } from '../internal/options.js'
import { commandOf } from '../internal/subcommands.js'
import { safeText, writeJson, writeLine } from '../output.js'

const MAX_FILE = 8 * 1024 * 1024

function readText(io: CliIO, file: string, what: string): string {
  const path = resolve(io.cwd, file)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    throw new IoError(`read ${what}`, path, { cause: e })
  }
  if (text.length > MAX_FILE) throw new UsageError(`${what} is larger than ${MAX_FILE} bytes`)
  return text
}

function readJson(text: string, what: string): unknown {
  try {
    return parseJson(text, { maxDepth: 64 })
  } catch (e) {
    throw new UsageError(`${what} is not valid JSON: ${(e as Error).message}`, {
      cause: e,
      category: 'invalid-input',
    })
  }
}

/** One problem, printable: the JSON path and message quote the policy file, so they are escaped. */
const formatProblem = (p: PolicyProblem): string =>
  `${safeText(p.path || '(root)')}: ${safeText(p.message)} [${p.code}]`

/** Reads and validates the policy; `invalidExit` decides the exit code (lint: 1, others: 2). */
function loadPolicy(io: CliIO, file: string, invalidExit: 1 | 2): PolicyDocument {
  const r = parsePolicyText(readText(io, file, '--policy'))
  if (!r.ok) {
    for (const p of r.problems) io.stderr.write(`${safeText(file)}: ${formatProblem(p)}\n`)
    throw invalidExit === 1
      ? new CliExit(1, `policy invalid: ${r.problems.length} problem(s)`)
      : new UsageError(`--policy is invalid: ${r.problems.length} problem(s)`)
  }
  return r.policy
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** Turns a CLI request document into an AccessRequest plus its relationship answers. */
function toRequest(
  raw: unknown,
  where: string,
): { request: AccessRequest; relationships: Map<string, boolean> } {
  if (!isObject(raw)) throw new UsageError(`${where} must be a JSON object`)
  const { relationships, scopes, ...rest } = raw
  const answers = new Map<string, boolean>()
  if (relationships !== undefined) {
    if (!isObject(relationships)) throw new UsageError(`${where}.relationships must be an object`)
    for (const [k, v] of Object.entries(relationships)) {
      if (typeof v !== 'boolean') throw new UsageError(`${where}.relationships.${k} must be true or false`)
      answers.set(k, v)
    }
  }
  const request = { ...rest } as Record<string, unknown>
  if (scopes !== undefined) {
    if (!isObject(scopes) || typeof scopes.scope !== 'string')
      throw new UsageError(`${where}.scopes must be { "scope": "...", "patient"?: "..." }`)
    try {
      request.scopes = parseSmartScopes(
        scopes.scope,
        typeof scopes.patient === 'string' ? { patient: scopes.patient } : {},
      )
    } catch (e) {
      throw new UsageError(`${where}.scopes: ${(e as Error).message}`)
    }
  }
  return { request: request as unknown as AccessRequest, relationships: answers }
}

function parseInstant(text: string, what: string): number {
  const t = Date.parse(text)
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(t))
    throw new UsageError(`${what} expects an ISO 8601 date-time`)
  return t
}

/** Builds a decision point whose resolvers read the current request's relationship answers. */
function decisionPoint(
  policy: unknown,
  grants: readonly EmergencyGrant[],
): { pdp: DecisionPoint; clock: ReturnType<typeof manualClock>; answers: { current: Map<string, boolean> } } {
  const answers = { current: new Map<string, boolean>() }
  const clock = manualClock(0)
  const store = createMemoryEmergencyStore()
  for (const g of grants) store.set(g)
  const names = (policy as { relationships?: string[] }).relationships ?? []
  const resolvers: Record<string, () => boolean> = Object.create(null)
  for (const name of names) {
    resolvers[name] = () => {
      const v = answers.current.get(name)
      if (v === undefined) throw new Error('relationship not answered')
      return v
    }
  }
  return { pdp: compilePolicy(policy, { clock, resolvers, emergencyStore: store }), clock, answers }
}

function loadGrants(io: CliIO, file: string | undefined): EmergencyGrant[] {
  if (file === undefined) return []
  const raw = readJson(readText(io, file, '--grants'), '--grants')
  if (!Array.isArray(raw)) throw new UsageError('--grants must be a JSON array of grants')
  return raw.map((g, i) => {
    const grant = isObject(g) ? Object.freeze({ revoked: null, review: null, ...g }) : undefined
    if (!isEmergencyGrant(grant)) throw new UsageError(`--grants[${i}] is not a grant`)
    return grant
  })
}

const USAGE = [
  'Usage: safeguards access lint --policy FILE [--json]',
  '       safeguards access explain --policy FILE --request JSON|@FILE [--now ISO] [--grants FILE]',
  '       safeguards access test --policy FILE --cases FILE [--grants FILE] [--json]',
  '',
  'lint     validates a policy (JSON or YAML): exit 0 valid, 1 invalid (every problem with its JSON path).',
  'explain  prints the decision for one request as JSON: exit 0 whether allowed or denied, 2 on bad input.',
  'test     runs a table of requests with expected decisions: exit 0 all pass, 1 any mismatch, 2 bad input.',
  '',
  'A request: { "subject": { "id", "tenant", "roles" }, "action", "resource": { "type", "tenant", … },',
  '  "context"?, "consent"?, "emergencyAccess"?, "relationships"?: { "careTeam": true },',
  '  "scopes"?: { "scope": "patient/Observation.rs", "patient": "p-1" } }',
  'A cases file: [{ "name", "request", "expect": { "allowed", "reason"?, "rules"?, "obligations"? }, "now"? }]',
  '',
  'Exit codes: as above; 74 when a file cannot be read (names the path); see safeguards --help.',
].join('\n')

async function lint(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, { policy: STRING, json: FLAG })
  const file = requireString(values, 'policy')
  const r = parsePolicyText(readText(io, file, '--policy'))
  if (values.json) {
    writeJson(io, r.ok ? { valid: true, problems: [] } : { valid: false, problems: r.problems })
    return r.ok ? ExitCode.OK : ExitCode.CHECK_FAILED
  }
  if (r.ok) {
    writeLine(
      io,
      `ok: ${safeText(file)} is valid (${r.policy.roles.length} roles, ${r.policy.rules.length} rules)`,
    )
    return ExitCode.OK
  }
  for (const p of r.problems) writeLine(io, `${safeText(file)}: ${formatProblem(p)}`)
  io.stderr.write(`safeguards access lint: ${r.problems.length} problem(s)\n`)
  return ExitCode.CHECK_FAILED
}

function decideOne(
  point: ReturnType<typeof decisionPoint>,
  raw: unknown,
  where: string,
  now: number,
): Decision {
  const { request, relationships } = toRequest(raw, where)
  point.answers.current = relationships
  point.clock.set(now, true)
  const d = point.pdp.decide(request)
  if (d.reason === 'invalid_request') throw new UsageError(`${where} is not a well-formed access request`)
  return d
}

async function explain(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, optionSpecs({ strings: ['policy', 'request', 'now', 'grants'] }))
  const policy = loadPolicy(io, requireString(values, 'policy'), 2)
  const arg = requireString(values, 'request')
  const text = arg.startsWith('@') ? readText(io, arg.slice(1), '--request') : arg
  const raw = readJson(text, '--request')
  const nowText = optionalString(values, 'now')
  const now = nowText === undefined ? Date.now() : parseInstant(nowText, '--now')
  const point = decisionPoint(policy, loadGrants(io, optionalString(values, 'grants')))
  writeJson(io, decideOne(point, raw, '--request', now))
  return ExitCode.OK
}

interface Expectation {
  allowed: boolean
  reason?: string
  rules?: string[]
  obligations?: string[]
}

function mismatches(d: Decision, e: Expectation): string[] {
  const out: string[] = []
  if (d.allowed !== e.allowed)
    out.push(`expected allowed=${e.allowed}, got ${d.allowed} (reason ${d.reason})`)
  if (e.reason !== undefined && d.reason !== e.reason)
    out.push(`expected reason ${e.reason}, got ${d.reason}`)
  const same = (a: readonly string[], b: readonly string[]) =>
    a.length === b.length && a.every((x, i) => x === b[i])
  if (e.rules !== undefined) {
    const got = d.rules.map((r) => r.id)
    if (!same(got, [...e.rules].sort()))
      out.push(`expected rules [${[...e.rules].sort().join(', ')}], got [${got.join(', ')}]`)
  }
  if (e.obligations !== undefined) {
    const got = d.obligations.map((o) => o.id).sort()
    if (!same(got, [...e.obligations].sort()))
      out.push(`expected obligations [${[...e.obligations].sort().join(', ')}], got [${got.join(', ')}]`)
  }
  for (const err of d.errors) out.push(`note: condition error in ${err.rule}: ${err.code} (${err.detail})`)
  return out
}

function parseCase(
  raw: unknown,
  i: number,
): { name: string; request: unknown; expect: Expectation; now?: string } {
  const where = `case #${i + 1}`
  if (!isObject(raw)) throw new UsageError(`${where} must be an object`)
  const allowedKeys = new Set(['name', 'request', 'expect', 'now'])
  for (const k of Object.keys(raw))
    if (!allowedKeys.has(k)) throw new UsageError(`${where} has an unknown key ${JSON.stringify(k)}`)
  const e = raw.expect
  if (!isObject(e) || typeof e.allowed !== 'boolean')
    throw new UsageError(`${where}.expect.allowed must be true or false`)
  for (const k of Object.keys(e))
    if (!['allowed', 'reason', 'rules', 'obligations'].includes(k))
      throw new UsageError(`${where}.expect has an unknown key ${JSON.stringify(k)}`)
  if (e.reason !== undefined && typeof e.reason !== 'string')
    throw new UsageError(`${where}.expect.reason must be a string`)
  for (const k of ['rules', 'obligations'] as const) {
    const v = e[k]
    if (v !== undefined && !(Array.isArray(v) && v.every((x) => typeof x === 'string')))
      throw new UsageError(`${where}.expect.${k} must be a list of ids`)
  }
  if (raw.now !== undefined && typeof raw.now !== 'string')
    throw new UsageError(`${where}.now must be an ISO date-time`)
  const name = typeof raw.name === 'string' && raw.name !== '' ? raw.name : where
  return {
    name,
    request: raw.request,
    expect: e as unknown as Expectation,
    ...(typeof raw.now === 'string' ? { now: raw.now } : {}),
  }
}

async function test(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    optionSpecs({ strings: ['policy', 'cases', 'grants'], flags: ['json'] }),
  )
  const policy = loadPolicy(io, requireString(values, 'policy'), 2)
  const raw = readJson(readText(io, requireString(values, 'cases'), '--cases'), '--cases')
  const list = isObject(raw) && Array.isArray(raw.cases) ? raw.cases : raw
  if (!Array.isArray(list) || list.length === 0)
    throw new UsageError('--cases must be a non-empty array of cases')
  const cases = list.map(parseCase)
  const point = decisionPoint(policy, loadGrants(io, optionalString(values, 'grants')))
  const fallbackNow = Date.now()
  const results = cases.map((c, i) => {
    const now = c.now === undefined ? fallbackNow : parseInstant(c.now, `case #${i + 1}.now`)
    const d = decideOne(point, c.request, `case #${i + 1}.request`, now)
    const problems = mismatches(d, c.expect).filter((p) => !p.startsWith('note:'))
    const notes = mismatches(d, c.expect).filter((p) => p.startsWith('note:'))
    return { name: c.name, passed: problems.length === 0, problems, notes, decision: d }
  })
  const failed = results.filter((r) => !r.passed)
  if (values.json) {
    writeJson(io, {
      passed: results.length - failed.length,
      failed: failed.length,
      cases: results.map(({ name, passed, problems, notes }) => ({ name, passed, problems, notes })),
    })
  } else {
    for (const r of results) {
      writeLine(io, `${r.passed ? 'ok  ' : 'FAIL'} ${safeText(r.name)}`)
      if (!r.passed) for (const p of [...r.problems, ...r.notes]) writeLine(io, `     ${safeText(p)}`)
    }
    writeLine(io, `${results.length - failed.length} passed, ${failed.length} failed`)
  }
  return failed.length === 0 ? ExitCode.OK : ExitCode.CHECK_FAILED
}

/** The `access` command. */
export const accessCommand: Command = commandOf({
  name: 'access',
  summary: 'lint an access policy, explain a decision, run policy test cases',
  usage: USAGE,
  subcommands: { lint, explain, test },
})
