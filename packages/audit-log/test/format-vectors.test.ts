/**
 * Audit log format v1 (docs/formats/audit-log-v1.md): known-answer vectors, checked (1) byte for
 * byte against what the library writes with a fixed key and clock, and (2) by an independent
 * verifier written from the document (./spec-verifier.ts, no code shared with src/), which must
 * also accept logs and proofs the library writes and agree with `verifyLog` on tampered ones.
 *
 * `UPDATE_VECTORS=1` rewrites test/vectors/audit-log-v1.json from the library (review the diff: the
 * format is stable, so it must not change).
 */
import { generateKeyPairSync } from 'node:crypto'
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { manualClock } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import {
  type AuditEvent,
  createCheckpointSigner,
  createKeyring,
  directoryAnchor,
  generateCheckpointKey,
  leafHash,
  MerkleTree,
  openAuditLog,
  openFileStore,
  proveConsistency,
  proveInclusion,
  verifyLog,
} from '../src/index.js'
import { event, tempDir } from './helpers.js'
import {
  canonical,
  checkConsistencyBundle,
  checkInclusionBundle,
  entryHash,
  merkleRoot,
  type TrustedKey,
  verifyFileLog,
} from './spec-verifier.js'

const VECTORS = join(import.meta.dirname, 'vectors/audit-log-v1.json')

/** RFC 8032 §7.1 TEST 1 (the key of RFC 8037 Appendix A), as an Ed25519 JWK. */
const RFC8032_TEST1 = {
  kty: 'OKP',
  crv: 'Ed25519',
  d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A',
  x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
}
const STREAM = 'vectors'
const START = Date.UTC(2026, 0, 1)

const EVENTS: AuditEvent[] = [
  {
    type: '110114',
    subtype: ['110122'],
    action: 'E',
    outcome: 0,
    agents: [
      {
        who: 'Practitioner/7',
        requestor: true,
        type: 'humanuser',
        network: { address: '10.0.0.7', type: '2' },
      },
    ],
    source: { observer: 'ehr-api', site: 'clinic-1' },
  },
  {
    type: 'rest',
    subtype: ['read'],
    action: 'R',
    outcome: 0,
    agents: [{ who: 'Practitioner/7', requestor: true, role: ['doctor'] }],
    source: { observer: 'ehr-api' },
    patient: 'Patient/42',
    entities: [{ what: 'Observation/9', type: '2', role: '4' }],
    requestId: 'req-1',
  },
  {
    type: 'rest',
    subtype: ['search'],
    action: 'E',
    outcome: 8,
    outcomeCode: 'forbidden',
    agents: [{ who: 'ps:k1:3q2-7w', requestor: true, altId: 'ps:k1:9x' }],
    source: { observer: 'ehr-api', type: ['4'] },
  },
  {
    type: 'export',
    action: 'R',
    outcome: 0,
    agents: [{ who: 'Device/batch-1', requestor: true, purposeOfUse: ['HOPERAT'] }],
    source: { observer: 'ehr-batch' },
    details: { '10': 3, '2': 1, export: true, rows: 12 },
  },
  {
    type: 'rest',
    subtype: ['update'],
    action: 'U',
    outcome: 0,
    occurred: '2026-01-01T00:00:03.5Z',
    agents: [{ who: 'Practitioner/8', requestor: true, purposeOfUse: ['TREAT'] }],
    source: { observer: 'ehr-api' },
    patient: 'Patient/42',
    entities: [{ what: 'MedicationRequest/3', type: '2', role: '4', lifecycle: '3', securityLabel: ['R'] }],
  },
  {
    type: 'rest',
    subtype: ['delete'],
    action: 'D',
    outcome: 4,
    agents: [
      { who: 'Practitioner/8', requestor: true },
      { who: 'Device/gw-1', requestor: false, type: '110153' },
    ],
    source: { observer: 'ehr-api' },
  },
  {
    type: '110114',
    subtype: ['110123'],
    action: 'E',
    outcome: 0,
    agents: [{ who: 'Practitioner/7', requestor: true, type: 'humanuser' }],
    source: { observer: 'ehr-api', site: 'clinic-1' },
  },
]

interface Vectors {
  description: string
  key: { privateJwk: typeof RFC8032_TEST1; kid: string }
  stream: string
  records: { seq: number; text: string; entryHash: string }[]
  roots: { size: number; root: string }[]
  checkpoints: { index: number; size: number; payload: string; protectedHeader: string; jws: string }[]
  logFiles: Record<string, string>
  anchorFiles: Record<string, string>
  inclusion: Record<string, unknown>[]
  consistency: Record<string, unknown>[]
}

/** Writes the vector log with the library: 3 records, a checkpoint, 4 more, a checkpoint on close. */
async function writeVectorLog(dir: string, anchorDir: string): Promise<void> {
  const clock = manualClock(START)
  const log = await openAuditLog({
    store: await openFileStore({ dir, stream: STREAM, durability: 'none' }),
    signer: await createCheckpointSigner(RFC8032_TEST1),
    anchor: directoryAnchor(anchorDir),
    checkpointEvery: { records: 1000, ms: 0 },
    clock,
  })
  for (const [i, e] of EVENTS.entries()) {
    await log.append(e)
    clock.advance(1000)
    if (i === 2) await log.checkpoint()
  }
  await log.close()
}

function filesOf(root: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (rel: string): void => {
    for (const d of readdirSync(join(root, rel), { withFileTypes: true })) {
      const p = rel === '' ? d.name : `${rel}/${d.name}`
      if (d.isDirectory()) {
        if (d.name !== 'lock') walk(p)
      } else out[p] = readFileSync(join(root, p), 'utf8')
    }
  }
  walk('')
  return out
}

function putFiles(root: string, files: Record<string, string>): void {
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true })
    writeFileSync(join(root, p), text)
  }
}

const decode = (b64url: string): string => Buffer.from(b64url, 'base64url').toString('utf8')

/** The vectors, as the library makes them now. */
async function makeVectors(): Promise<Vectors> {
  const dir = tempDir()
  const anchorDir = tempDir()
  await writeVectorLog(dir, anchorDir)
  const store = await openFileStore({ dir, readOnly: true })
  const records: Vectors['records'] = []
  const tree = new MerkleTree()
  for await (const r of store.read(0)) {
    const h = leafHash(r.bytes)
    tree.append(h)
    records.push({
      seq: r.seq,
      text: Buffer.from(r.bytes).toString('utf8'),
      entryHash: Buffer.from(h).toString('hex'),
    })
  }
  const cps = await store.readCheckpoints()
  const signer = await createCheckpointSigner(RFC8032_TEST1)
  const vectors: Vectors = {
    description:
      'Audit log format v1 known-answer vectors: see docs/formats/audit-log-v1.md and test/vectors/README.md.',
    key: { privateJwk: RFC8032_TEST1, kid: signer.kid },
    stream: STREAM,
    records,
    roots: Array.from({ length: tree.size + 1 }, (_, size) => ({
      size,
      root: Buffer.from(tree.root(size)).toString('hex'),
    })),
    checkpoints: cps.map((c, index) => {
      const jws = JSON.parse(c.jws) as { payload: string; protected: string }
      return {
        index,
        size: c.size,
        payload: decode(jws.payload),
        protectedHeader: decode(jws.protected),
        jws: c.jws,
      }
    }),
    logFiles: filesOf(dir),
    anchorFiles: filesOf(anchorDir),
    inclusion: [
      await proveInclusion(store, 0, { checkpoint: cps[1]! }),
      await proveInclusion(store, 2, { checkpoint: cps[0]! }),
      await proveInclusion(store, 5, { checkpoint: cps[1]! }),
    ] as unknown as Record<string, unknown>[],
    consistency: [await proveConsistency(store, cps[0]!, cps[1]!)] as unknown as Record<string, unknown>[],
  }
  await store.close()
  return vectors
}

const trusted: TrustedKey[] = [{ kid: 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k', x: RFC8032_TEST1.x }]

if (process.env.UPDATE_VECTORS === '1') {
  const v = await makeVectors()
  writeFileSync(VECTORS, `${JSON.stringify(v, null, 2)}\n`)
}
const vectors = JSON.parse(readFileSync(VECTORS, 'utf8')) as Vectors

describe('audit log format v1 known-answer vectors', () => {
  it('the library writes exactly the vector files, hashes, roots, checkpoints and proofs', async () => {
    expect(await makeVectors()).toEqual(vectors)
    expect(vectors.key.kid).toBe(trusted[0]!.kid) // the RFC 7638 thumbprint the document gives
  })

  it('a verifier written from the format document accepts them and computes the same values', () => {
    const dir = tempDir()
    const anchorDir = tempDir()
    putFiles(dir, vectors.logFiles)
    putFiles(anchorDir, vectors.anchorFiles)
    const report = verifyFileLog(dir, trusted, anchorDir)
    expect(report.errors).toEqual([])
    expect(report.warnings).toEqual([])
    expect(report.records).toBe(vectors.records.length)
    expect(report.entryHashes).toEqual(vectors.records.map((r) => r.entryHash))
    for (const c of vectors.checkpoints)
      expect(Buffer.from(report.roots[c.size]!, 'base64').toString('hex')).toBe(
        vectors.roots.find((r) => r.size === c.size)!.root,
      )
    for (const r of vectors.records) expect(canonical(JSON.parse(r.text))).toBe(r.text)
    const leaves = vectors.records.map((r) => entryHash(Buffer.from(r.text, 'utf8')))
    for (const { size, root } of vectors.roots)
      expect(Buffer.from(merkleRoot(leaves, 0, size)).toString('hex')).toBe(root)
    for (const b of vectors.inclusion) expect(checkInclusionBundle(b, trusted)).toBe(true)
    for (const b of vectors.consistency) expect(checkConsistencyBundle(b, trusted)).toBe(true)
    // and refuses them under another key
    const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x as string
    const stranger: TrustedKey[] = [{ kid: trusted[0]!.kid, x: other }]
    expect(verifyFileLog(dir, stranger, anchorDir).errors.length).toBeGreaterThan(0)
    expect(checkInclusionBundle(vectors.inclusion[0]!, stranger)).toBe(false)
  })

  it('the format document quotes the vectors', () => {
    const doc = readFileSync(join(import.meta.dirname, '../../../docs/formats/audit-log-v1.md'), 'utf8')
    const root = (size: number) => vectors.roots.find((r) => r.size === size)!.root
    for (const quoted of [
      vectors.records[0]!.text,
      vectors.records[0]!.entryHash,
      root(3),
      root(7),
      vectors.checkpoints[0]!.payload,
      vectors.checkpoints[0]!.jws,
      JSON.parse(vectors.checkpoints[1]!.payload).prev,
      vectors.key.kid,
    ])
      expect(doc).toContain(quoted)
  })
})

describe('the independent verifier and verifyLog agree', () => {
  /** A fresh log: random key, several segments, checkpoints, an anchor. */
  async function freshLog(n: number, every: number) {
    const dir = tempDir()
    const anchorDir = tempDir()
    const key = await generateCheckpointKey()
    const log = await openAuditLog({
      store: await openFileStore({ dir, stream: 'fresh', segmentMaxBytes: 4096, durability: 'none' }),
      signer: await createCheckpointSigner(key.privateJwk),
      anchor: directoryAnchor(anchorDir),
      checkpointEvery: { records: every, ms: 0 },
      maxBatch: 7,
    })
    await Promise.all(Array.from({ length: n }, (_, i) => log.append(event(i))))
    await log.close()
    const keys: TrustedKey[] = [{ kid: key.kid, x: key.publicJwk.x as string }]
    const keyring = await createKeyring([{ publicJwk: key.publicJwk }])
    return { dir, anchorDir, keys, keyring }
  }

  it('on logs the library writes, and on every proof it makes for them', async () => {
    for (const [n, every] of [
      [1, 1],
      [17, 4],
      [64, 10],
      [129, 32],
    ] as const) {
      const { dir, anchorDir, keys, keyring } = await freshLog(n, every)
      const spec = verifyFileLog(dir, keys, anchorDir)
      expect(spec.errors, `${n} records`).toEqual([])
      const store = await openFileStore({ dir, readOnly: true })
      const lib = await verifyLog(store, { keyring, anchor: directoryAnchor(anchorDir), workers: 0 })
      expect(lib.ok).toBe(true)
      expect(spec.records).toBe(lib.records)
      const cps = await store.readCheckpoints()
      for (const [i, to] of cps.entries()) {
        for (const seq of [0, Math.floor(to.size / 2), to.size - 1])
          if (seq < to.size) {
            const b = (await proveInclusion(store, seq, { checkpoint: to })) as unknown as Record<
              string,
              unknown
            >
            expect(checkInclusionBundle(b, keys), `seq ${seq} in ${to.size}`).toBe(true)
          }
        for (const from of cps.slice(0, i + 1)) {
          if (from.size < 1) continue
          const b = (await proveConsistency(store, from, to)) as unknown as Record<string, unknown>
          expect(checkConsistencyBundle(b, keys), `${from.size} -> ${to.size}`).toBe(true)
          if (from.size < to.size)
            expect(checkConsistencyBundle({ ...b, from: b.to, to: b.from }, keys)).toBe(false)
        }
      }
      await store.close()
    }
  })

  it('on tampered logs: both refuse each one', async () => {
    const { dir, anchorDir, keys, keyring } = await freshLog(40, 8)
    const pristine = tempDir()
    cpSync(dir, pristine, { recursive: true })
    const segs = () => readdirSync(join(dir, 'segments')).sort()
    const edit = (file: string, f: (text: string) => string) =>
      writeFileSync(join(dir, file), f(readFileSync(join(dir, file), 'utf8')))
    const first = `segments/${segs()[0]}`
    /** Replaces line `k` of the first segment. */
    const line = (k: number, f: (l: string) => string) =>
      edit(first, (t) =>
        t
          .split('\n')
          .map((l, i) => (i === k ? f(l) : l))
          .join('\n'),
      )
    const cases: [string, () => void][] = [
      ['a changed byte in a record', () => line(3, (l) => l.replace('Patient/3"', 'Patient/8"'))],
      [
        'a changed prev',
        () => line(3, (l) => l.replace(/"prev":"(.)/, (_, c) => `"prev":"${c === 'f' ? 'e' : 'f'}`)),
      ],
      ['a non-canonical record', () => line(3, (l) => l.replace('"v":1}', '"v":1.0}'))],
      [
        'a deleted record',
        () =>
          edit(first, (t) =>
            t
              .split('\n')
              .filter((_, i) => i !== 2)
              .join('\n'),
          ),
      ],
      ['the last segment cut off', () => rmSync(join(dir, 'segments', segs().at(-1)!))],
      [
        'a checkpoint signature byte',
        () =>
          edit('checkpoints.jsonl', (t) =>
            t.replace(/signature\\":\\"(.)/, (m, c) => m.slice(0, -1) + (c === 'A' ? 'B' : 'A')),
          ),
      ],
      [
        'checkpoints out of order',
        () =>
          edit('checkpoints.jsonl', (t) => {
            const l = t.trim().split('\n')
            return `${[l[1], l[0], ...l.slice(2)].join('\n')}\n`
          }),
      ],
      [
        'the stored checkpoints cut',
        () => edit('checkpoints.jsonl', (t) => `${t.trim().split('\n').slice(0, 1).join('\n')}\n`),
      ],
      ['the anchor wiped', () => rmSync(join(anchorDir, 'fresh'), { recursive: true })],
    ]
    for (const [name, tamper] of cases) {
      rmSync(dir, { recursive: true })
      cpSync(pristine, dir, { recursive: true })
      tamper()
      const spec = verifyFileLog(dir, keys, anchorDir)
      const lib = await verifyLog(await openFileStore({ dir, readOnly: true }), {
        keyring,
        anchor: directoryAnchor(anchorDir),
        anchorGraceMs: 0,
        workers: 0,
      })
      expect({ name, spec: spec.errors.length > 0, lib: lib.ok }).toEqual({ name, spec: true, lib: false })
    }
  })
})
