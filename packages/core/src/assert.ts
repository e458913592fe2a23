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

/**
 * Refuses option objects with keys outside `known`: a mistyped option must not silently fall
 * back to its default (a dropped pepper, a default window). The error comes from `fail`, so each
 * package throws its own typed configuration error; the message names the key (shortened and
 * escaped) and, when one is close, the known option it probably meant.
 *
 * @param options - the options object (only its own enumerable keys are checked).
 * @param known - the option names the function accepts.
 * @param fail - builds the error to throw from a safe message.
 * @throws {TypeError} when `options` is not an object.
 * @throws whatever `fail` returns, on the first unknown key.
 * @example
 * ```ts
 * assertKnownOptions({ peper: p }, KNOWN, (m) => new PasswordConfigError(m))
 * // PasswordConfigError: unknown option "peper" (did you mean "pepper"?)
 * ```
 */
export function assertKnownOptions(
  options: unknown,
  known: ReadonlySet<string>,
  fail: (message: string) => Error,
): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" expected an object')
  for (const key of Object.keys(options)) {
    if (known.has(key)) continue
    const near = nearestName(key, known)
    throw fail(
      `unknown option ${JSON.stringify(key.slice(0, 40))}${near === undefined ? '' : ` (did you mean "${near}"?)`}`,
    )
  }
}

/** The known name nearest to `key` (case-insensitive), if one is within edit distance 2. */
function nearestName(key: string, known: ReadonlySet<string>): string | undefined {
  if (key.length > 64) return undefined
  const k = key.toLowerCase()
  let best: string | undefined
  let bestDistance = 3
  for (const name of known) {
    const d = editDistance(k, name.toLowerCase())
    if (d < bestDistance) {
      best = name
      bestDistance = d
    }
  }
  return best
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(
        (prev[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      )
    prev = row
  }
  return prev[b.length] as number
}
