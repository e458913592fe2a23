import { type RandomSource, sha256, utf8Encode } from '@safeguards/core'
import type { RecoveryCodeHasher } from '../src/index.js'

/** Deterministic bytes that differ per call (so runs can be compared and ids predicted); tests only. */
export function counterRandom(): RandomSource {
  let i = 0
  return (n) => {
    const out = new Uint8Array(n)
    for (let o = 0; o < n; o += 32) out.set(sha256(utf8Encode(`rnd-${i++}`)).subarray(0, n - o), o)
    return out
  }
}

/** A cheap recovery-code hasher (argon2id is tested with the default hasher elsewhere). */
export const plainHasher: RecoveryCodeHasher = {
  hash: async (c) => `h:${c}`,
  verify: async (h, c) => ({ valid: h === `h:${c}` }),
}
