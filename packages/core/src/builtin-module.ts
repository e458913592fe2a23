/**
 * Finds a runtime built-in module (`node:crypto`, `node:stream`, …) at run time, without a static
 * import, so the packages that use it stay loadable in browsers and edge runtimes.
 *
 * @module
 */

interface ProcessLike {
  getBuiltinModule?: (id: string) => unknown
}

/**
 * The runtime's built-in module `id` when it has one and the module has every function named in
 * `functions`, otherwise `undefined`. Uses `process.getBuiltinModule` (Node.js ≥ 20.16 and
 * ≥ 22.3, Deno, Bun); never throws. The caller types the slice of the module it uses, and falls back
 * to a portable implementation when the result is `undefined`.
 *
 * HIPAA: not a safeguard by itself; it lets the encryption and hashing packages (164.312(a)(2)(iv),
 * 164.312(c)(1)) run on the runtime's native, constant-time implementations where they exist.
 *
 * @param id - the module id, for example `'node:crypto'`.
 * @param functions - the functions the caller needs; a module lacking one is treated as absent.
 * @returns the module, or `undefined` outside Node-compatible runtimes.
 *
 * @example
 * ```ts
 * interface Streams { Duplex: { fromWeb(t: TransformStream): unknown } }
 * const stream = builtinModule<Streams>('node:stream', [])
 * if (stream === undefined) throw new TypeError('needs Node.js')
 * ```
 */
export function builtinModule<T extends object>(id: string, functions: readonly string[]): T | undefined {
  try {
    const proc = (globalThis as { process?: ProcessLike }).process
    const mod = proc?.getBuiltinModule?.(id) as Record<string, unknown> | undefined
    if (mod !== undefined && mod !== null && functions.every((f) => typeof mod[f] === 'function'))
      return mod as T
  } catch {
    // a runtime whose getBuiltinModule throws has no such module for us
  }
  return undefined
}
