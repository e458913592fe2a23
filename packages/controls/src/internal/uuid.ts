/**
 * RFC 4122 §4.3 name-based UUIDs (version 5, SHA-1), so generated OSCAL documents are identical
 * byte for byte across builds. SHA-1 is what the RFC specifies for v5; it is used here as a
 * deterministic identifier function, not for security.
 */

import { sha1 } from '@noble/hashes/legacy.js'
import { bytesToHex, hexToBytes, utf8Encode } from '@safeguards/core'

/** The namespace for every Safeguards OSCAL identifier (the v5 UUID of "https://safeguards.dev/oscal" in the RFC 4122 URL namespace). */
export const SAFEGUARDS_NAMESPACE = '4f597f95-254c-5adf-851c-62d3a11c6f5a'

/** A version-5 UUID for `name` in `namespace`. */
export function uuidv5(name: string, namespace: string = SAFEGUARDS_NAMESPACE): string {
  const ns = hexToBytes(namespace.replace(/-/g, ''))
  const input = new Uint8Array(ns.length + utf8Encode(name).length)
  input.set(ns)
  input.set(utf8Encode(name), ns.length)
  const h = sha1(input).subarray(0, 16)
  h[6] = ((h[6] as number) & 0x0f) | 0x50
  h[8] = ((h[8] as number) & 0x3f) | 0x80
  const hex = bytesToHex(h)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
