/** Identifier rules shared by the policy schema, the request checks and SMART scope parsing. */

/** A plain token: a letter, then up to 63 letters, digits, `_ . : -`. No whitespace, commas or NUL. */
export const TOKEN_RE: RegExp = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/

/** An attribute path segment. */
export const SEGMENT_RE: RegExp = /^[A-Za-z][A-Za-z0-9_]{0,63}$/

/** Names that mean something on `Object.prototype`; never accepted as ids or attribute names. */
export const RESERVED: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toString',
  'toLocaleString',
  'valueOf',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
])

/** True when `s` is a plain token and not a reserved name. */
export function isToken(s: unknown): s is string {
  return typeof s === 'string' && TOKEN_RE.test(s) && !RESERVED.has(s)
}

/** Limits that bound compile time and memory. */
export const LIMITS: {
  readonly roles: 1000
  readonly rules: 50000
  readonly labels: 1000
  readonly listItems: 1000
  readonly inheritDepth: 32
  readonly conditionDepth: 16
  readonly conditionNodes: 256
  readonly text: 2000
} = Object.freeze({
  roles: 1000,
  rules: 50000,
  labels: 1000,
  listItems: 1000,
  inheritDepth: 32,
  conditionDepth: 16,
  conditionNodes: 256,
  text: 2000,
})

/** RFC 6901 JSON Pointer of a path. */
export function pointer(path: readonly PropertyKey[]): string {
  let out = ''
  for (const seg of path) out += `/${String(seg).replace(/~/g, '~0').replace(/\//g, '~1')}`
  return out
}
