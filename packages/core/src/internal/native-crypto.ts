/**
 * node:crypto found at run time (through {@link builtinModule}), so core stays loadable in browsers
 * and edge runtimes. Only the slice of the API core uses is typed here; src has no `@types/node`.
 */
import { builtinModule } from '../builtin-module.js'

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

/** node:crypto when the runtime has it, otherwise undefined. Resolved once. */
export const nativeCrypto: NativeCrypto | undefined = builtinModule<NativeCrypto>('node:crypto', [
  'createHash',
  'createHmac',
])
