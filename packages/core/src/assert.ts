/**
 * Argument checks for public entry points, in the style of noble's `abytes`/`anumber`:
 * `TypeError` for the wrong type, `RangeError` for the wrong length or range. Messages name the
 * argument and never include its value.
 *
 * @module
 */

/**
 * Asserts that `value` is a `Uint8Array` (optionally of one of the given lengths).
 *
 * @param value - the value to check.
 * @param name - the argument name used in the error message.
 * @param lengths - allowed lengths; any length when omitted.
 * @throws {TypeError} when `value` is not a `Uint8Array`.
 * @throws {RangeError} when its length is not one of `lengths`.
 * @example
 * ```ts
 * assertBytes(key, 'key', 32) // RangeError('"key" expected 32 bytes, got 16')
 * ```
 */
export function assertBytes(value: unknown, name: string, ...lengths: number[]): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`"${name}" expected Uint8Array`)
  if (lengths.length > 0 && !lengths.includes(value.length)) {
    throw new RangeError(`"${name}" expected ${lengths.join(' or ')} bytes, got ${value.length}`)
  }
}

/**
 * Asserts that `value` is a safe integer within `[min, max]`.
 *
 * @throws {TypeError} when `value` is not a safe integer.
 * @throws {RangeError} when it is out of range.
 * @example
 * ```ts
 * assertInteger(digits, 'digits', 6, 8)
 * ```
 */
export function assertInteger(
  value: unknown,
  name: string,
  min: number = Number.MIN_SAFE_INTEGER,
  max: number = Number.MAX_SAFE_INTEGER,
): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TypeError(`"${name}" expected a safe integer`)
  }
  if (value < min || value > max) throw new RangeError(`"${name}" expected an integer in [${min}, ${max}]`)
}

/**
 * Asserts that `value` is a string of at most `maxLength` UTF-16 code units.
 *
 * @throws {TypeError} when `value` is not a string.
 * @throws {RangeError} when it is longer than `maxLength`.
 * @example
 * ```ts
 * assertString(userId, 'userId', 256)
 * ```
 */
export function assertString(
  value: unknown,
  name: string,
  maxLength: number = Number.MAX_SAFE_INTEGER,
): asserts value is string {
  if (typeof value !== 'string') throw new TypeError(`"${name}" expected a string`)
  if (value.length > maxLength) throw new RangeError(`"${name}" expected at most ${maxLength} characters`)
}
