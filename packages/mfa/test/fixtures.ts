import { type RandomSource, sha256, utf8Encode } from '@safeguards/core'
import { createMemoryStore, type MfaStore, type RecoveryCodeHasher } from '../src/index.js'

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

/** A memory store whose compare-and-set always loses for keys starting with `prefix`; `losses` counts. */
export function losingStore(prefix: string): { store: MfaStore; losses: () => number } {
  const inner = createMemoryStore()
  let losses = 0
  const store: MfaStore = {
    get: (k) => inner.get(k),
    compareAndSet: async (k, e, n, t) => {
      if (!k.startsWith(prefix)) return inner.compareAndSet(k, e, n, t)
      losses++
      return false
    },
  }
  return { store, losses: () => losses }
}
