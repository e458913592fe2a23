/**
 * SMART App Launch scopes (v2, with the v1 mapping) as an upper bound on access decisions.
 *
 * Grammar (SMART App Launch 2.x §Scopes and Launch Context):
 * `( "patient" | "user" | "system" ) "/" ( ResourceType | "*" ) "." permissions [ "?" query ]`,
 * where v2 permissions are a non-empty, in-order subset of `c r u d s` and v1 permissions are
 * `read` (→ `rs`), `write` (→ `cud`) or `*` (→ `cruds`). Scopes that are not clinical-data
 * scopes (`openid`, `fhirUser`, `launch/patient`, `offline_access`…) are ignored and listed in
 * `ignored`; a clinical scope with bad permissions (`.dus`, `.rd`, `.rr`) throws.
 *
 * HIPAA: 164.502(b) minimum necessary and 164.312(a)(1) access control (an app's token narrows
 * what its user may do through it; it never widens it).
 *
 * @module
 */
import { SmartScopeError } from './errors.js'
import type { SmartPermission } from './policy.js'

/**
 * Bits of the SMART permission letters.
 *
 * HIPAA: 164.502(b) minimum necessary.
 *
 * @example
 * ```ts
 * smartScopesPermit(scopes, SMART_BITS.r, { type: 'Observation', patient: 'p-1' })
 * ```
 */
export const SMART_BITS: Readonly<Record<SmartPermission, number>> = Object.freeze({
  c: 1,
  r: 2,
  u: 4,
  d: 8,
  s: 16,
})

/** One clinical-data scope. */
export interface SmartScope {
  /** The scope as written. */
  readonly text: string
  readonly context: 'patient' | 'user' | 'system'
  /** A resource type or `*`. */
  readonly resourceType: string
  /** Bit set of {@link SMART_BITS}. */
  readonly permissions: number
  /** `?name=value` constraints (v2), all of which must match the resource's attributes. */
  readonly params: readonly (readonly [string, string])[]
}

/** Parsed scopes plus the launch context they are bound to. */
export interface SmartScopes {
  readonly scopes: readonly SmartScope[]
  /** The launch-context patient `patient/` scopes are bound to (absent: they match nothing). */
  readonly patient?: string
  /** Scopes that are not clinical-data scopes, ignored. */
  readonly ignored: readonly string[]
}

/** Options for {@link parseSmartScopes}. */
export interface SmartScopeOptions {
  /** The patient from the launch context (the token response's `patient`). */
  patient?: string
}

const parsed = new WeakSet<object>()

/**
 * True when `value` came from {@link parseSmartScopes} (the decision point accepts nothing else,
 * so a hand-built object cannot smuggle in a malformed scope).
 *
 * HIPAA: 164.502(b) minimum necessary.
 *
 * @example
 * ```ts
 * isSmartScopes(parseSmartScopes('user/*.rs')) // true
 * ```
 * @throws never
 */
export function isSmartScopes(value: unknown): value is SmartScopes {
  return typeof value === 'object' && value !== null && parsed.has(value)
}

const CLINICAL = /^(patient|user|system)\/([^.?]*)\.([^?]*)(?:\?(.*))?$/
const TYPE = /^(?:\*|[A-Z][A-Za-z]{0,63})$/
const V2 = /^c?r?u?d?s?$/
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/
const V1: Readonly<Record<string, number>> = Object.freeze({ read: 2 | 16, write: 1 | 4 | 8, '*': 31 })
const MAX_SCOPES = 256
const MAX_TEXT = 16384

/**
 * Parses a space-separated SMART scope string.
 *
 * HIPAA: 164.502(b) minimum necessary.
 *
 * @param text - the token's `scope` value.
 * @param options - the launch-context patient.
 * @returns the clinical scopes and the ignored ones.
 * @hipaa 164.502(b) supports
 * @nist AC-6 164.502(b): SMART scopes only narrow a decision, never widen it
 * @evidence the parsed scopes narrowing each decision (never widening it)
 * @appResponsibility Request only the scopes each SMART app needs.
 * @verifiedBy packages/rbac/test/smart-scopes.test.ts
 * @throws {SmartScopeError} (code `ERR_RBAC_SMART_SCOPE_INVALID`) for a malformed clinical scope.
 * @throws {TypeError} when `text` is not a string.
 * @example
 * ```ts
 * const scopes = parseSmartScopes('launch/patient openid patient/Observation.rs user/Patient.read', { patient: 'p-1' })
 * pdp.decide({ ...request, scopes })
 * ```
 */
export function parseSmartScopes(text: string, options?: SmartScopeOptions): SmartScopes {
  if (typeof text !== 'string') throw new TypeError('"text" expected a string')
  if (text.length > MAX_TEXT) throw new SmartScopeError(`scope string longer than ${MAX_TEXT}`, 0)
  const parts = text.split(' ').filter((p) => p !== '')
  if (parts.length > MAX_SCOPES) throw new SmartScopeError(`more than ${MAX_SCOPES} scopes`, MAX_SCOPES)
  const scopes: SmartScope[] = []
  const ignored: string[] = []
  parts.forEach((part, index) => {
    const m = CLINICAL.exec(part)
    if (!m || part.startsWith('__')) {
      ignored.push(part)
      return
    }
    const [, context, type, perms, query] = m as unknown as [
      string,
      SmartScope['context'],
      string,
      string,
      string | undefined,
    ]
    if (!TYPE.test(type)) throw new SmartScopeError('bad resource type', index)
    let bits: number
    if (Object.hasOwn(V1, perms)) {
      if (query !== undefined) throw new SmartScopeError('v1 scopes take no query', index)
      bits = V1[perms] as number
    } else if (perms !== '' && V2.test(perms)) {
      bits = 0
      for (const ch of perms) bits |= SMART_BITS[ch as SmartPermission]
    } else {
      throw new SmartScopeError('permissions must be an in-order subset of "cruds", or read/write/*', index)
    }
    const params: (readonly [string, string])[] = []
    if (query !== undefined) {
      for (const kv of query.split('&')) {
        const eq = kv.indexOf('=')
        const name = eq > 0 ? kv.slice(0, eq) : ''
        if (!PARAM_NAME.test(name)) throw new SmartScopeError('bad query parameter', index)
        let value: string
        try {
          value = decodeURIComponent(kv.slice(eq + 1))
        } catch {
          throw new SmartScopeError('bad percent-encoding', index)
        }
        params.push(Object.freeze([name, value] as const))
      }
    }
    scopes.push(
      Object.freeze({
        text: part,
        context,
        resourceType: type,
        permissions: bits,
        params: Object.freeze(params),
      }),
    )
  })
  const patient = options?.patient
  if (patient !== undefined && (typeof patient !== 'string' || patient === ''))
    throw new TypeError('"options.patient" expected a non-empty string')
  const result: SmartScopes = Object.freeze({
    scopes: Object.freeze(scopes),
    ignored: Object.freeze(ignored),
    ...(patient === undefined ? {} : { patient }),
  })
  parsed.add(result)
  return result
}

function paramMatches(attributes: unknown, name: string, value: string): boolean {
  if (typeof attributes !== 'object' || attributes === null || !Object.hasOwn(attributes, name)) return false
  const v = (attributes as Record<string, unknown>)[name]
  if (typeof v === 'string') return v === value
  return Array.isArray(v) && v.includes(value)
}

/**
 * True when some scope permits `permission` on the resource. Used by the decision point; exported
 * for apps that filter search results the same way.
 *
 * HIPAA: 164.502(b) minimum necessary.
 *
 * @throws never for scopes from {@link parseSmartScopes}.
 * @param scopes - from {@link parseSmartScopes}.
 * @param permission - one bit of {@link SMART_BITS} (0 when the action has no SMART letter: never permitted).
 * @param resource - type, patient and attributes of the resource.
 * @returns whether the scopes permit it.
 * @example
 * ```ts
 * smartScopesPermit(scopes, SMART_BITS.r, { type: 'Observation', patient: 'p-1' })
 * ```
 */
export function smartScopesPermit(
  scopes: SmartScopes,
  permission: number,
  resource: { readonly type: string; readonly patient?: string; readonly attributes?: unknown },
): boolean {
  if (permission === 0) return false
  for (const s of scopes.scopes) {
    if ((s.permissions & permission) === 0) continue
    if (s.resourceType !== '*' && s.resourceType !== resource.type) continue
    if (s.context === 'patient' && (scopes.patient === undefined || resource.patient !== scopes.patient))
      continue
    let ok = true
    for (const [name, value] of s.params) {
      if (!paramMatches(resource.attributes, name, value)) {
        ok = false
        break
      }
    }
    if (ok) return true
  }
  return false
}
