/**
 * A buffered view of a {@link RandomSource}: small requests (data keys, message ids, IVs) are
 * served from a 4 KiB block drawn at once, which saves a CSPRNG call per record. Served bytes are
 * zeroed in the pool as they are handed out, so each byte is used once.
 */
import type { RandomSource } from '@safeguards/core'

const POOL = 4096

/** Wraps `source` with a pool for requests of at most 256 bytes. */
export function pooledRandom(source: RandomSource): RandomSource {
  let pool: Uint8Array = new Uint8Array(0)
  let pos = 0
  return (n: number): Uint8Array => {
    if (!Number.isSafeInteger(n) || n < 0 || n > 256) return source(n)
    if (pos + n > pool.length) {
      pool = source(POOL)
      pos = 0
    }
    const out = pool.slice(pos, pos + n)
    pool.fill(0, pos, pos + n)
    pos += n
    return out
  }
}
