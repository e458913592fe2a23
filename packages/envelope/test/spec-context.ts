/**
 * Shared by the independent decoders of the format v1 and v2 known-answer tests: big-endian
 * integers and the canonical context (§4 of docs/formats/envelope-v1.md and envelope-v2.md, the
 * same encoding in both), written from the spec, not from the library.
 */
import { concatBytes } from '@safeguards/core'

const te = new TextEncoder()
const td = new TextDecoder('utf-8', { fatal: true })
/** Big-endian u16 and u32. */
export const u16 = (v: number): Uint8Array => Uint8Array.of(v >> 8, v & 255)
export const u32 = (v: number): Uint8Array =>
  Uint8Array.of(v >>> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255)

const compareBytes = (a: Uint8Array, b: Uint8Array): number => {
  for (let i = 0; i < Math.min(a.length, b.length); i++)
    if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number)
  return a.length - b.length
}

/** Spec §4: u16 count, pairs sorted by key bytes, each u16-length-prefixed UTF-8. */
export function canonical(ctx: Record<string, string>): Uint8Array {
  const pairs = Object.entries(ctx)
    .map(([k, v]) => [te.encode(k), te.encode(v)] as const)
    .sort((a, b) => compareBytes(a[0], b[0]))
  return concatBytes(u16(pairs.length), ...pairs.flatMap(([k, v]) => [u16(k.length), k, u16(v.length), v]))
}

/** Spec §4: parses a canonical context (the stored part of a header). */
export function parseCanonical(b: Uint8Array): Record<string, string> {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength)
  const out: Record<string, string> = {}
  let p = 2
  for (let i = 0; i < dv.getUint16(0); i++) {
    const kl = dv.getUint16(p)
    const k = td.decode(b.subarray(p + 2, p + 2 + kl))
    p += 2 + kl
    const vl = dv.getUint16(p)
    out[k] = td.decode(b.subarray(p + 2, p + 2 + vl))
    p += 2 + vl
  }
  return out
}
