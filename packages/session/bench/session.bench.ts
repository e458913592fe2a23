import { hash } from 'node:crypto'
import type { Scenario } from '../../../scripts/bench/types.ts'
import { createSessionManager } from '../src/index.js'

const sessions = createSessionManager()
let token = ''
const map = new Map<string, { lastActivityAt: number }>()

const scenarios: Scenario[] = [
  {
    name: 'session validate with activity, in-memory store',
    unit: 'ops/s',
    setup: async () => {
      token = (await sessions.create('u-bench')).token
      map.set(hash('sha256', token, 'hex'), { lastActivityAt: Date.now() })
    },
    ours: { name: '@safeguards/session validate(token) (memory)', op: () => sessions.validate(token) },
    anchor: {
      name: 'floor: sha256(token) + Map.get + write (no checks)',
      op: async () => {
        const r = map.get(hash('sha256', token, 'hex'))
        if (r) r.lastActivityAt = Date.now()
        return r
      },
    },
    target: { value: 200_000, text: '≥ 200,000 ops/s' },
  },
]
export default scenarios
