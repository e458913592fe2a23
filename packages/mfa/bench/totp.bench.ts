import { NodeCryptoPlugin } from '@otplib/plugin-crypto-node'
import { manualClock, utf8Encode } from '@safeguards/core'
import { verifySync } from 'otplib'
import type { Scenario } from '../../../scripts/bench/types.ts'
import { createMemoryStore, createTotpVerifier, totpCode } from '../src/index.js'

// Both sides verify a fresh, valid code at the current step with a ±1 step window, over the same
// precomputed sequence of steps (the clock moves 30 s per operation, so no code is ever replayed).
const secret = utf8Encode('12345678901234567890')
const START = 1_700_000_001_000
const N = 50_000
const codes: string[] = []
for (let i = 0; i < N; i++) codes.push(totpCode({ secret, time: START + i * 30_000 }))

const clock = manualClock(START)
let store = createMemoryStore({ clock })
let verifier = createTotpVerifier({ store, clock })
let i = 0
let round = 0
const crypto = new NodeCryptoPlugin()
let j = 0

const scenarios: Scenario[] = [
  {
    name: 'TOTP verify, in-memory store',
    unit: 'ops/s',
    ours: {
      name: '@safeguards/mfa createTotpVerifier().verify (replay + throttle state)',
      op: async () => {
        if (i === N) {
          // Start over on a new credential: the old one has used every step.
          i = 0
          round++
          store = createMemoryStore({ clock })
          verifier = createTotpVerifier({ store, clock })
        }
        clock.set(START + i * 30_000, true)
        const r = await verifier.verify(`cred-${round}`, secret, codes[i++])
        if (!r.valid) throw new Error('bench: expected a valid code')
      },
    },
    anchor: {
      name: 'otplib 13 verifySync (node crypto, no state)',
      op: () => {
        if (j === N) j = 0
        const epoch = Math.floor((START + j * 30_000) / 1000)
        const r = verifySync({ secret, token: codes[j++] as string, epoch, epochTolerance: 30, crypto })
        if (!r.valid) throw new Error('bench: expected a valid code')
      },
    },
    target: { ratio: 0.5, value: 20_000, text: '≥ 20k/s and ≥ 0.5× otplib' },
  },
]
export default scenarios
