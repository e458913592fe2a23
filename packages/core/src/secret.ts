/**
 * A wrapper that keeps secrets (passwords, seeds, tokens, keys) out of logs: printing,
 * string conversion, `JSON.stringify` and Node's `util.inspect` all give `<redacted>`. The value
 * is read only through {@link Secret.reveal}, which makes each use visible in review. Modelled on
 * Effect's `Redacted`.
 *
 * @module
 */

const REDACTED = '<redacted>'
const inspectSymbol = Symbol.for('nodejs.util.inspect.custom')
const redacted = (): string => REDACTED

/**
 * A secret value that does not print.
 *
 * HIPAA: supports 164.312(a)(1) access control and 164.312(b) audit controls (secrets do not leak
 * into logs or audit trails by accident).
 *
 * @example
 * ```ts
 * const password = Secret.of(req.body.password)
 * console.log({ password }) // { password: <redacted> }
 * await hashPassword(password.reveal())
 * ```
 */
export class Secret<T> {
  readonly #value: T

  private constructor(value: T) {
    this.#value = value
    // Node's `util.inspect` / `console.log` hook, defined here because a computed class member
    // cannot be declared under isolatedDeclarations.
    Object.defineProperty(this, inspectSymbol, { value: redacted, enumerable: false })
  }

  /**
   * Wraps a value.
   *
   * @example
   * ```ts
   * const s = Secret.of('hunter2')
   * ```
   */
  static of<T>(value: T): Secret<T> {
    return new Secret(value)
  }

  /** True when `value` is a {@link Secret}. */
  static isSecret(value: unknown): value is Secret<unknown> {
    return value instanceof Secret
  }

  /** Returns the wrapped value. Every call site is a place where the secret is used: keep them few. */
  reveal(): T {
    return this.#value
  }

  /** Always `<redacted>`. */
  toString(): string {
    return REDACTED
  }

  /** Always `<redacted>`, so `JSON.stringify` never prints the value. */
  toJSON(): string {
    return REDACTED
  }

  /** `${secret}` and `secret + ''` give `<redacted>`. */
  [Symbol.toPrimitive](): string {
    return REDACTED
  }
}
