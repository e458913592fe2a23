import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isSafeguardsError } from '@safeguards/core'
import { afterAll } from 'vitest'

/** A temp folder removed after the test file. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sg-envelope-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Deterministic "random" bytes for known-answer tests. */
export function counterRandom(seed = 1): (n: number) => Uint8Array {
  let x = seed
  return (n: number) => {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i++) {
      x = (x * 1103515245 + 12345) >>> 0
      out[i] = x >>> 24
    }
    return out
  }
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b)

/** An error's SDK code, or the error as text when it is not an SDK error. */
export const errorCodeOf = (e: unknown): string => (isSafeguardsError(e) ? e.code : String(e))

/** The code `p` rejects with (see {@link errorCodeOf}); undefined when it resolves. */
export const rejectionCode = (p: Promise<unknown>): Promise<string | undefined> =>
  p.then(() => undefined, errorCodeOf)

/** Byte equality without Vitest's slow element-by-element diff on large arrays. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0
}

/** Concatenates byte arrays. */
export { concatBytes as concat } from '@safeguards/core'

/** A ReadableStream that yields exactly these chunks (Blob.stream() would re-chunk them). */
export function streamOf(parts: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0
  return new ReadableStream<Uint8Array>({
    pull(c) {
      const p = parts[i++]
      if (p === undefined) c.close()
      else c.enqueue(p)
    },
  })
}

/** Splits bytes into chunks of `size`. */
export function chunked(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size))
  return out
}
