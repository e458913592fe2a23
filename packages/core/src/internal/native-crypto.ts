/**
 * Finds node:crypto at run time without a static import, so core stays loadable in browsers and
 * edge runtimes. `process.getBuiltinModule` exists from Node 20.16 and 22.3 (and in Deno and Bun).
 * Only the slice of the API core uses is typed here; src has no `@types/node`.
 */

/** The part of a node:crypto Hash/Hmac object we use. */
export interface NativeHash {
  update(data: Uint8Array): NativeHash
  digest(): Uint8Array
}

/** The part of node:crypto we use. */
export interface NativeCrypto {
  createHash(algorithm: string): NativeHash
  createHmac(algorithm: string, key: Uint8Array): NativeHash
  /** One-shot hash (Node >= 20.12, 21.7): no Hash object per call. */
  hash?: (algorithm: string, data: Uint8Array | string, outputEncoding: 'hex') => string
}

interface ProcessLike {
  getBuiltinModule?: (id: string) => unknown
}

function load(): NativeCrypto | undefined {
  try {
    const proc = (globalThis as { process?: ProcessLike }).process
    const mod = proc?.getBuiltinModule?.('node:crypto') as Partial<NativeCrypto> | undefined
    if (mod && typeof mod.createHash === 'function' && typeof mod.createHmac === 'function')
      return mod as NativeCrypto
  } catch {
    // fall through to the portable implementation
  }
  return undefined
}

/** node:crypto when the runtime has it, otherwise undefined. Resolved once. */
export const nativeCrypto: NativeCrypto | undefined = load()
