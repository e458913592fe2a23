/**
 * Normalisers for blind indexes: each maps the many ways a value is written to one canonical form
 * before it is hashed, so that `123-45-6789` and `123 45 6789` find the same row. They matter more
 * than the hash (a lookup that misses is a silent failure) and they are deliberately strict: a
 * value that cannot be put in canonical form throws {@link BlindIndexInputError} naming the rule,
 * never the value, instead of being indexed in some form a later lookup would not produce.
 *
 * Every normaliser is idempotent (`n(n(x)) === n(x)`, property-tested) and starts with Unicode
 * NFKC (UAX #15), which folds full-width digits and letters, ligatures and compatibility forms.
 *
 * - SSN: nine ASCII digits (separators: spaces, dashes, dots).
 * - Phone: E.164, `+` and the digits of the country code and national number (7..15 digits).
 * - Email: trimmed, NFKC, case-folded (both parts; RFC 5321 lets a host treat the local part as
 *   case-sensitive, and practically none do); exactly one `@`.
 * - Date: ISO 8601 `YYYY-MM-DD` from ISO, compact, slashed, dotted and English month-name forms;
 *   a day that does not exist (February 30) is refused.
 * - Text: NFKC, trimmed, runs of white space collapsed to one space; optionally case-folded.
 * - Compound: several fields, each normalised, in an unambiguous length-prefixed encoding.
 *
 * HIPAA: 164.312(a)(2)(iv) encryption and decryption (search over encrypted fields without
 * decrypting them all).
 *
 * @module
 */
import { hasLoneSurrogate, utf8Encode } from '@safeguards/core'
import { BlindIndexInputError } from './errors.js'

/**
 * Maps a field value to the canonical bytes (or string, taken as UTF-8) that a blind index hashes.
 * Throws {@link BlindIndexInputError} for a value it cannot normalise.
 */
export type BlindIndexNormalizer<T> = (value: T) => string | Uint8Array

/** The longest input a normaliser accepts, in UTF-16 code units. */
export const MAX_NORMALIZER_INPUT = 4096

function prepare(value: unknown, normalizer: string): string {
  if (typeof value !== 'string') throw new TypeError(`"value" expected a string (${normalizer})`)
  if (value.length > MAX_NORMALIZER_INPUT) {
    throw new BlindIndexInputError(normalizer, `longer than ${MAX_NORMALIZER_INPUT} characters`)
  }
  if (hasLoneSurrogate(value)) throw new BlindIndexInputError(normalizer, 'not well-formed UTF-16')
  return value.normalize('NFKC').trim()
}

/** Separators accepted inside numbers: white space, every dash (Unicode Pd) and the minus sign, dots. */
const NUMBER_SEPARATORS = /[\s\p{Pd}\u2212.]/gu

/**
 * Normalises a US Social Security number (or ITIN) to its nine digits: `123-45-6789`,
 * `123 45 6789`, `123.45.6789` and full-width digits all give `123456789`. The number is not
 * checked against SSA assignment rules (ITINs start with 9; test data uses 000).
 *
 * @throws {TypeError} when `value` is not a string.
 * @throws {BlindIndexInputError} (normalizer `ssn`) unless exactly nine digits remain.
 * @example
 * ```ts
 * normalizeSsn(' 123-45-6789 ') // '123456789'
 * ```
 */
export function normalizeSsn(value: string): string {
  const digits = prepare(value, 'ssn').replace(NUMBER_SEPARATORS, '')
  if (!/^[0-9]{9}$/.test(digits)) throw new BlindIndexInputError('ssn', 'expected exactly 9 digits')
  return digits
}

/** Options of {@link phoneNormalizer}. */
export interface PhoneNormalizerOptions {
  /**
   * The country calling code for numbers written without one (no `+` or `00` prefix), 1 to 3
   * digits without `+`. Default `'1'` (North America: a leading trunk `1` is dropped and ten
   * national digits are required). For other codes one leading trunk `0` is dropped.
   */
  defaultCountryCode?: string
}

/**
 * Makes a phone-number normaliser: E.164, a `+` and the digits of the country code and national
 * number (7 to 15 digits). `+1 (555) 010-0100`, `555.010.0100`, `1-555-010-0100` and
 * `001 555 010 0100` all give `+15550100100` with the default country code `1`. The `+` keeps
 * the output a fixed point (re-normalising it reads it as international again). Numbering plans
 * are not checked; extensions and letters are refused.
 *
 * @throws {TypeError} when `defaultCountryCode` is not a string.
 * @throws {RangeError} when it is not 1 to 3 digits without a leading 0.
 * @throws {BlindIndexInputError} (from the returned function; normalizer `phone`) for letters, an extension or a wrong length.
 * @example
 * ```ts
 * const normalizeUkPhone = phoneNormalizer({ defaultCountryCode: '44' })
 * normalizeUkPhone('020 7946 0000') // '+442079460000'
 * ```
 */
export function phoneNormalizer(options: PhoneNormalizerOptions = {}): (value: string) => string {
  const cc = options.defaultCountryCode ?? '1'
  if (typeof cc !== 'string') throw new TypeError('"defaultCountryCode" expected a string')
  if (!/^[1-9][0-9]{0,2}$/.test(cc))
    throw new RangeError('"defaultCountryCode" expected 1 to 3 digits, no leading 0')
  return (value: string): string => {
    const s = prepare(value, 'phone')
    const plus = s.startsWith('+')
    const digits = (plus ? s.slice(1) : s).replace(/[\s\p{Pd}\u2212.()/]/gu, '')
    if (!/^[0-9]+$/.test(digits)) {
      throw new BlindIndexInputError(
        'phone',
        'expected only digits and separators (no letters or extensions)',
      )
    }
    let full: string
    if (plus) full = digits
    else if (digits.startsWith('00')) full = digits.slice(2)
    else if (cc === '1' && digits.startsWith('011')) full = digits.slice(3)
    else if (cc === '1') {
      const national = digits.length === 11 && digits.startsWith('1') ? digits.slice(1) : digits
      if (national.length !== 10) {
        throw new BlindIndexInputError('phone', 'expected 10 national digits for country code 1')
      }
      full = cc + national
    } else full = cc + (digits.startsWith('0') ? digits.slice(1) : digits)
    if (full.startsWith('0') || full.length < 7 || full.length > 15) {
      throw new BlindIndexInputError('phone', 'expected 7 to 15 digits with the country code (E.164)')
    }
    return `+${full}`
  }
}

/**
 * {@link phoneNormalizer} with the default country code `1`.
 *
 * @throws {TypeError} when `value` is not a string.
 * @throws {BlindIndexInputError} (normalizer `phone`) for letters, an extension or a wrong length.
 * @example
 * ```ts
 * normalizePhone('(555) 010-0100') // '+15550100100'
 * ```
 */
export const normalizePhone: (value: string) => string = phoneNormalizer()

/**
 * Full case folding, approximated with the locale-independent upper-then-lower mapping (which
 * folds `ß` to `ss` and final sigma to sigma, as Unicode's CaseFolding does), then NFKC, repeated
 * until nothing changes, so the result is a fixed point (idempotent by construction).
 */
function foldCase(text: string): string {
  let s = text
  for (let i = 0; i < 4; i++) {
    const next = s.toUpperCase().toLowerCase().normalize('NFKC')
    if (next === s) return s
    s = next
  }
  return s
}

/**
 * Normalises an email address: trimmed, NFKC, case-folded (local part too), one `@` with text on
 * both sides, no white space. Provider-specific aliases (dots and `+tags` in Gmail addresses) are
 * kept: they are different addresses to everyone else.
 *
 * @throws {TypeError} when `value` is not a string.
 * @throws {BlindIndexInputError} (normalizer `email`) without exactly one `@`, with an empty side, or with white space.
 * @example
 * ```ts
 * normalizeEmail('  Jane.Doe@Example.ORG ') // 'jane.doe@example.org'
 * ```
 */
export function normalizeEmail(value: string): string {
  const s = foldCase(prepare(value, 'email'))
  if (/\s/u.test(s)) throw new BlindIndexInputError('email', 'contains white space')
  const at = s.indexOf('@')
  if (at <= 0 || at !== s.lastIndexOf('@') || at === s.length - 1) {
    throw new BlindIndexInputError('email', 'expected one @ with text on both sides')
  }
  return s
}

/** Options of {@link dateNormalizer}. */
export interface DateNormalizerOptions {
  /**
   * How to read `NN/NN/YYYY` and `NN-NN-YYYY`: month first (`mdy`, the US form; default) or day
   * first (`dmy`). Dotted dates (`12.03.1980`) are always day first.
   */
  order?: 'mdy' | 'dmy'
}

const MONTHS: Readonly<Record<string, number>> = {
  jan: 1,
  january: 1,
  feb: 2,
  february: 2,
  mar: 3,
  march: 3,
  apr: 4,
  april: 4,
  may: 5,
  jun: 6,
  june: 6,
  jul: 7,
  july: 7,
  aug: 8,
  august: 8,
  sep: 9,
  sept: 9,
  september: 9,
  oct: 10,
  october: 10,
  nov: 11,
  november: 11,
  dec: 12,
  december: 12,
}

function isoDate(y: number, m: number, d: number): string {
  if (y < 1 || m < 1 || m > 12 || d < 1) throw new BlindIndexInputError('date', 'no such date')
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1] as number
  if (d > days) throw new BlindIndexInputError('date', 'no such date')
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`
}

function monthOf(name: string): number {
  const m = MONTHS[name.toLowerCase()]
  if (m === undefined) throw new BlindIndexInputError('date', 'unknown month name')
  return m
}

/**
 * Makes a date normaliser producing ISO 8601 `YYYY-MM-DD`. Accepted forms (four-digit years only;
 * two-digit years are ambiguous and refused):
 * `1980-03-12`, `1980/3/12`, `19800312`, `1980-03-12T00:00:00Z` (midnight only: a date carried in
 * a timestamp; any other time is refused because its day depends on the time zone),
 * `03/12/1980` and `03-12-1980` (per `order`), `12.03.1980` (day first),
 * `12 Mar 1980`, `March 12, 1980`.
 *
 * @throws {RangeError} when `order` is not `mdy` or `dmy`.
 * @throws {BlindIndexInputError} (from the returned function; normalizer `date`) for an unrecognised form or a day that does not exist.
 * @example
 * ```ts
 * const normalizeEuDate = dateNormalizer({ order: 'dmy' })
 * normalizeEuDate('12/03/1980') // '1980-03-12'
 * ```
 */
export function dateNormalizer(options: DateNormalizerOptions = {}): (value: string) => string {
  const order = options.order ?? 'mdy'
  if (order !== 'mdy' && order !== 'dmy') throw new RangeError('"order" expected mdy or dmy')
  const rules: readonly (readonly [RegExp, (m: string[]) => [number, number, number]])[] = [
    // 1980-03-12, 1980/3/12, 1980.03.12, and midnight timestamps 1980-03-12T00:00:00.000Z
    [
      /^([0-9]{4})([-/.])([0-9]{1,2})\2([0-9]{1,2})(?:T00:00(?::00(?:\.0+)?)?Z?)?$/,
      (m) => [+m[1]!, +m[3]!, +m[4]!],
    ],
    [/^([0-9]{4})([0-9]{2})([0-9]{2})$/, (m) => [+m[1]!, +m[2]!, +m[3]!]], // 19800312
    // 03/12/1980, 03-12-1980: month first or day first, per `order`
    [
      /^([0-9]{1,2})([-/])([0-9]{1,2})\2([0-9]{4})$/,
      (m) => (order === 'mdy' ? [+m[4]!, +m[1]!, +m[3]!] : [+m[4]!, +m[3]!, +m[1]!]),
    ],
    [/^([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})$/, (m) => [+m[3]!, +m[2]!, +m[1]!]], // 12.03.1980
    [/^([0-9]{1,2})[\s-]+([A-Za-z]+)\.?[\s-]+([0-9]{4})$/, (m) => [+m[3]!, monthOf(m[2]!), +m[1]!]], // 12 Mar 1980
    [/^([A-Za-z]+)\.?\s+([0-9]{1,2}),?\s+([0-9]{4})$/, (m) => [+m[3]!, monthOf(m[1]!), +m[2]!]], // March 12, 1980
  ]
  return (value: string): string => {
    const s = prepare(value, 'date')
    for (const [pattern, parts] of rules) {
      const m = pattern.exec(s)
      if (m) return isoDate(...parts(m as unknown as string[]))
    }
    throw new BlindIndexInputError('date', 'not a recognised date form (use YYYY-MM-DD)')
  }
}

/**
 * {@link dateNormalizer} with month-first slashed dates (`03/12/1980` is March 12).
 *
 * @throws {TypeError} when `value` is not a string.
 * @throws {BlindIndexInputError} (normalizer `date`) for an unrecognised form or a day that does not exist.
 * @example
 * ```ts
 * normalizeDate('March 12, 1980') // '1980-03-12'
 * normalizeDate('1980-02-30') // throws BlindIndexInputError
 * ```
 */
export const normalizeDate: (value: string) => string = dateNormalizer()

/** Options of {@link textNormalizer}. */
export interface TextNormalizerOptions {
  /** Case-fold as well (names, cities). Default false. */
  caseFold?: boolean
}

/**
 * Makes a text normaliser: NFKC, trimmed, every run of white space collapsed to one space, and
 * optionally case-folded. Empty results are refused (index a missing value as NULL, not as an
 * empty string: every empty value would share one index entry).
 *
 * @throws {TypeError} (from the returned function) when the value is not a string.
 * @throws {BlindIndexInputError} (from the returned function; normalizer `text`) when nothing remains.
 * @example
 * ```ts
 * textNormalizer({ caseFold: true })('  O’Brien ') // 'o’brien'
 * ```
 */
export function textNormalizer(options: TextNormalizerOptions = {}): (value: string) => string {
  const caseFold = options.caseFold === true
  return (value: string): string => {
    let s = prepare(value, 'text').replace(/\s+/gu, ' ')
    if (caseFold) s = foldCase(s)
    if (s.length === 0) throw new BlindIndexInputError('text', 'empty after normalisation')
    return s
  }
}

/**
 * Plain text: NFKC, trimmed, white space collapsed, case kept.
 *
 * @throws {TypeError} when `value` is not a string.
 * @throws {BlindIndexInputError} (normalizer `text`) when nothing remains.
 * @example
 * ```ts
 * normalizeText(' Ward\u00a0 7 ') // 'Ward 7'
 * ```
 */
export const normalizeText: (value: string) => string = textNormalizer()

/**
 * Names: {@link normalizeText} and case-folded (`DOE`, `Doe` and ` doe ` are one name).
 *
 * @throws {TypeError} when `value` is not a string.
 * @throws {BlindIndexInputError} (normalizer `text`) when nothing remains.
 * @example
 * ```ts
 * normalizeName(' DOE ') // 'doe'
 * ```
 */
export const normalizeName: (value: string) => string = textNormalizer({ caseFold: true })

/** The input of a compound normaliser made from `fields`: one value per field. */
export type CompoundInput<F extends Readonly<Record<string, BlindIndexNormalizer<never>>>> = {
  readonly [K in keyof F]: Parameters<F[K]>[0]
}

function u32(out: Uint8Array, at: number, n: number): void {
  out[at] = n >>> 24
  out[at + 1] = (n >>> 16) & 0xff
  out[at + 2] = (n >>> 8) & 0xff
  out[at + 3] = n & 0xff
}

/**
 * Makes a compound normaliser (CipherSweet's compound index): several fields of one row, each
 * with its own normaliser, hashed as one value, for example last name and birth date. The
 * encoding is unambiguous (no concatenation: `("ab", "c")` and `("a", "bc")` differ):
 * `u32 count ‖ (u32 len ‖ fieldName ‖ u32 len ‖ normalisedValue)*`, big-endian lengths in bytes,
 * UTF-8, fields sorted by name (UTF-16 code-unit order). Fields of the input that are not in
 * `fields` are ignored, so a whole row can be passed.
 *
 * @throws {TypeError} when `fields` is empty or a field's normaliser is not a function.
 * @example
 * ```ts
 * const byNameAndBirth = compoundNormalizer({ lastName: normalizeName, birthDate: normalizeDate })
 * byNameAndBirth({ lastName: 'Doe', birthDate: '03/12/1980' }) // bytes of ('birthDate', '1980-03-12'), ('lastName', 'doe')
 * ```
 */
export function compoundNormalizer<F extends Readonly<Record<string, BlindIndexNormalizer<never>>>>(
  fields: F,
): (value: CompoundInput<F>) => Uint8Array {
  if (typeof fields !== 'object' || fields === null) throw new TypeError('"fields" expected an object')
  const names = Object.keys(fields).sort()
  if (names.length === 0) throw new TypeError('"fields" expected at least one field')
  const entries = names.map((name) => {
    const normalize = fields[name]
    if (typeof normalize !== 'function')
      throw new TypeError(`"fields.${name}" expected a normaliser function`)
    return [utf8Encode(name), name, normalize as (value: unknown) => string | Uint8Array] as const
  })
  return (value: CompoundInput<F>): Uint8Array => {
    if (typeof value !== 'object' || value === null)
      throw new TypeError('"value" expected an object (compound)')
    const parts: Uint8Array[] = []
    let total = 4
    for (const [nameBytes, name, normalize] of entries) {
      const v = (value as Record<string, unknown>)[name]
      if (v === undefined || v === null) throw new BlindIndexInputError('compound', `missing field ${name}`)
      const n = normalize(v)
      const bytes = typeof n === 'string' ? utf8Encode(n) : n
      if (bytes.length === 0) throw new BlindIndexInputError('compound', `field ${name} is empty`)
      parts.push(nameBytes, bytes)
      total += 8 + nameBytes.length + bytes.length
    }
    const out = new Uint8Array(total)
    u32(out, 0, entries.length)
    let at = 4
    for (const part of parts) {
      u32(out, at, part.length)
      out.set(part, at + 4)
      at += 4 + part.length
    }
    return out
  }
}
