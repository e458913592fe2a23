/**
 * Where the bytes of a blind-index root key live: a module-private WeakMap from the opaque
 * `BlindIndexKey` handle to its 32 bytes, so no public object carries key material (nothing
 * to print, serialise or read by accident), and a destroyed handle has no bytes left to find.
 */
import type { BlindIndexKey } from '../blind-index-key.js'
import { KeyUnavailableError } from '../errors.js'

const bytesOf = new WeakMap<BlindIndexKey, Uint8Array>()
const issued = new WeakSet<object>()

/** Makes a handle over `bytes` (taken over: the caller must not keep or reuse them). */
export function makeBlindIndexKey(bytes: Uint8Array, keyRef: string | undefined): BlindIndexKey {
  const handle: BlindIndexKey = Object.freeze({
    keyRef,
    destroy(): void {
      const b = bytesOf.get(handle)
      if (b) b.fill(0)
      bytesOf.delete(handle)
    },
    toJSON: (): { keyRef: string | undefined } => ({ keyRef }),
  })
  bytesOf.set(handle, bytes)
  issued.add(handle)
  return handle
}

/**
 * The root key bytes of a handle (not a copy: do not keep or modify them).
 *
 * @throws {TypeError} when `handle` is not a blind-index key.
 * @throws {KeyUnavailableError} (reason `destroyed`) after `destroy()`.
 */
export function blindIndexKeyBytes(handle: unknown, name = 'key'): Uint8Array {
  if (typeof handle !== 'object' || handle === null || !issued.has(handle)) {
    throw new TypeError(`"${name}" expected a blind-index key (openBlindIndexKey, importBlindIndexKey)`)
  }
  const bytes = bytesOf.get(handle as BlindIndexKey)
  if (bytes === undefined) {
    const ref = (handle as BlindIndexKey).keyRef ?? 'blind-index-key'
    throw new KeyUnavailableError(ref, 'destroyed')
  }
  return bytes
}
