/**
 * Shared by the envelope property tests (properties.test.ts, properties-v2.test.ts): the frame
 * length, the arbitraries, the typed errors a damaged envelope may raise, and the damage itself.
 */
import fc from 'fast-check'
import { chunked, streamOf } from './helpers.js'

/** The frame length of the property suites (the smallest allowed, so frames are crossed often). */
export const FL = 4096

/** Each suite runs twice: without and with the data-key cache (whose keys are then shared). */
export const CACHE_CASES = [
  ['without a cache', undefined],
  ['with the data-key cache', {}],
] as const

/** Typed errors a damaged header may raise before any cryptography (parse bounds, key lookup). */
export const PRE_CRYPTO: ReadonlySet<string> = new Set([
  'ERR_ENVELOPE_FORMAT',
  'ERR_ENVELOPE_UNSUPPORTED',
  'ERR_ENVELOPE_LIMIT',
  'ERR_ENVELOPE_KEY_UNAVAILABLE',
])
/** Every code a damaged envelope may fail with: the pre-cryptography ones and the decryption error. */
export const HEADER_CODES: ReadonlySet<string> = new Set([...PRE_CRYPTO, 'ERR_ENVELOPE_DECRYPTION_FAILED'])

/** Contexts of up to four pairs, none with the reserved `hge:` prefix. */
export const contextArb: fc.Arbitrary<Record<string, string>> = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !k.startsWith('hge:')),
  fc.string({ maxLength: 12 }),
  { maxKeys: 4 },
)

/** Sizes within two bytes of 0 to 3 whole frames. */
export const sizeNearBoundary: fc.Arbitrary<number> = fc
  .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: -2, max: 2 }))
  .map(([k, d]) => Math.max(0, k * FL + d))

/** What `p` rejects with; undefined when it resolves. */
export const failure = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  )

/** A copy of `ct` with the byte at `pos` XORed with `mask` (never 0), and where: for messages. */
export function changedByte(
  ct: Uint8Array,
  mask: fc.Arbitrary<number>,
): fc.Arbitrary<{ pos: number; bad: Uint8Array; where: string }> {
  return fc.tuple(fc.integer({ min: 0, max: ct.length - 1 }), mask).map(([pos, x]) => {
    const bad = ct.slice()
    bad[pos] = (bad[pos] as number) ^ x
    return { pos, bad, where: `byte ${pos} mask ${x}` }
  })
}

/** `bytes` fed through `transform` (an envelope stream) in chunks of `chunk` bytes, collected. */
export async function piped(
  bytes: Uint8Array,
  chunk: number,
  transform: TransformStream<Uint8Array, Uint8Array>,
): Promise<Uint8Array> {
  return new Uint8Array(
    await new Response(streamOf(chunked(bytes, chunk)).pipeThrough(transform)).arrayBuffer(),
  )
}
