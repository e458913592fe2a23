/**
 * Parsing and validation of policy documents at the trust boundary. Strict: unknown keys, a
 * wrong-case effect (`"Deny"`), dangling references, duplicate ids, reserved or malformed ids, `"*"`
 * anywhere but alone in a wildcard-capable list, inheritance cycles and excessive depth are all
 * problems, each reported with its RFC 6901 JSON Pointer.
 *
 * HIPAA: 164.308(a)(4) access authorization (a policy that cannot be read unambiguously is refused,
 * never half-applied).
 *
 * @module
 */
import { parseJson } from '@safeguards/core'
import { parseDocument } from 'yaml'
import type { PolicyProblem } from './errors.js'
import { PolicyError } from './errors.js'
import { validatePolicy } from './internal/validate.js'
import type { PolicyDocument } from './policy.js'

/** The result of {@link parsePolicy}: the validated document, or every problem found. */
export type PolicyParseResult =
  | { readonly ok: true; readonly policy: PolicyDocument }
  | { readonly ok: false; readonly problems: readonly PolicyProblem[] }

/** The text formats {@link parsePolicyText} reads. `auto` picks JSON when the text starts with `{`. */
export type PolicyFormat = 'json' | 'yaml' | 'auto'

/** Largest policy text accepted, in UTF-16 code units (8 MiB). */
const MAX_TEXT = 8 * 1024 * 1024

/**
 * Validates a policy document (an already-parsed JSON value). Never throws on user input.
 *
 * HIPAA: 164.308(a)(4) access authorization.
 *
 * @param input - the parsed document.
 * @returns `{ ok: true, policy }` or `{ ok: false, problems }` with a JSON Pointer per problem.
 * @throws never (bad input is a returned problem).
 * @example
 * ```ts
 * const r = parsePolicy({ version: 1, roles: [], rules: [{ id: 'x', effect: 'Deny', roles: ['*'], actions: ['*'], resources: ['*'] }] })
 * // r.ok === false; r.problems[0].path === '/rules/0/effect'
 * ```
 */
export function parsePolicy(input: unknown): PolicyParseResult {
  return validatePolicy(input)
}

/**
 * Parses policy text (JSON with core's strict I-JSON parser, or YAML 1.2 core schema without
 * aliases, merge keys or custom tags) and validates it.
 *
 * HIPAA: 164.308(a)(4) access authorization.
 *
 * @param text - the document text.
 * @param format - `json`, `yaml` or `auto` (default).
 * @returns as {@link parsePolicy}; a syntax error is one problem at the root (`code: 'syntax'`).
 * @throws {TypeError} when `text` is not a string.
 * @example
 * ```ts
 * const r = parsePolicyText(readFileSync('policy.yaml', 'utf8'), 'yaml')
 * if (!r.ok) for (const p of r.problems) console.error(`${p.path}: ${p.message}`)
 * ```
 */
export function parsePolicyText(text: string, format: PolicyFormat = 'auto'): PolicyParseResult {
  if (typeof text !== 'string') throw new TypeError('"text" expected a string')
  const syntax = (message: string): PolicyParseResult => ({
    ok: false,
    problems: [{ path: '', code: 'syntax', message }],
  })
  if (text.length > MAX_TEXT) return syntax(`policy text longer than ${MAX_TEXT} characters`)
  const fmt = format === 'auto' ? (/^\s*[[{]/.test(text) ? 'json' : 'yaml') : format
  let value: unknown
  if (fmt === 'json') {
    try {
      value = parseJson(text, { maxDepth: 64 })
    } catch (e) {
      return syntax(e instanceof Error ? e.message : 'malformed JSON')
    }
  } else {
    const doc = parseDocument(text, {
      schema: 'core',
      merge: false,
      uniqueKeys: true,
      customTags: [],
      prettyErrors: false,
    })
    const first = doc.errors[0]
    if (first) return syntax(`YAML ${first.code} at line ${first.linePos?.[0].line ?? '?'}`)
    try {
      value = doc.toJS({ maxAliasCount: 0 })
    } catch {
      return syntax('YAML aliases are not allowed in policies')
    }
  }
  return validatePolicy(value)
}

/**
 * Like {@link parsePolicy} but throws {@link PolicyError} with every problem.
 *
 * HIPAA: 164.308(a)(4) access authorization.
 *
 * @throws {PolicyError} (code `ERR_RBAC_POLICY_INVALID`) listing every problem.
 * @example
 * ```ts
 * const policy = assertPolicy(JSON.parse(text))
 * ```
 */
export function assertPolicy(input: unknown): PolicyDocument {
  const r = validatePolicy(input)
  if (!r.ok) throw new PolicyError(r.problems)
  return r.policy
}
