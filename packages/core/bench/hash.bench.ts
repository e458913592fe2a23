import { createHash } from 'node:crypto'
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import type { Scenario } from '../../../scripts/bench/types.ts'
import { canonicalize, hash, sha256 } from '../src/index.js'

const MiB = new Uint8Array(1 << 20).fill(0x61)
const record = {
  action: 'read',
  agent: [{ id: 'u-1742', requestor: true, roles: ['nurse'] }],
  entity: [{ type: 'Patient', id: 'p-99812' }],
  outcome: 'success',
  recorded: '2026-11-22T09:00:00.000Z',
  seq: 123456,
  source: { observer: 'clinic-api' },
}

const scenarios: Scenario[] = [
  {
    name: 'sha256, 1 MiB',
    unit: 'MB/s',
    bytesPerOp: MiB.length,
    ours: { name: '@safeguards/core sha256 (native)', op: () => sha256(MiB) },
    anchor: { name: 'node:crypto createHash', op: () => createHash('sha256').update(MiB).digest() },
    target: { ratio: 0.95, text: '≈ node:crypto (≥ 0.95×)' },
  },
  {
    name: 'sha256, 1 MiB, portable fallback',
    unit: 'MB/s',
    bytesPerOp: MiB.length,
    ours: { name: '@safeguards/core hash(…, "noble")', op: () => hash('sha256', MiB, 'noble') },
    anchor: { name: '@noble/hashes sha256', op: () => nobleSha256(MiB) },
    target: { ratio: 0.95, text: '≈ noble (≥ 0.95×)' },
  },
  {
    name: 'canonicalize an audit-sized record',
    unit: 'ops/s',
    ours: { name: '@safeguards/core canonicalize', op: () => canonicalize(record) },
    anchor: { name: 'JSON.stringify (not canonical)', op: () => JSON.stringify(record) },
    target: { text: 'reported only' },
  },
]
export default scenarios
