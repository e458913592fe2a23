import argon2 from 'argon2'
import type { Scenario } from '../../../scripts/bench/types.ts'
import { createPasswordHasher } from '../src/index.js'

const hasher = createPasswordHasher()
const opts = {
  type: argon2.argon2id,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
  hashLength: 32,
} as const

const scenarios: Scenario[] = [
  {
    name: 'argon2id hash at defaults (m=19456 KiB, t=2, p=1)',
    unit: 'hashes/s',
    ours: { name: '@safeguards/password hasher.hash', op: () => hasher.hash('correct horse battery staple') },
    anchor: {
      name: 'argon2.hash, same parameters',
      op: () => argon2.hash('correct horse battery staple', opts),
    },
    target: { ratio: 0.95, text: '≥ 0.95× bare argon2' },
    timeMs: 4000,
  },
]
export default scenarios
