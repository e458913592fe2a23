/**
 * A conformance suite for AuditStore implementations. `@safeguards/audit-log-postgres` can run it
 * against its store:
 *
 *   import { describeStoreConformance } from '../../audit-log/test/store-conformance.js'
 *   describeStoreConformance('postgres', async () => openPostgresStore({ ... fresh stream ... }))
 *
 * `open` must return a store on a fresh, empty stream each time it is called.
 */
import { bytesToHex, utf8Encode } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import {
  type AppendRecord,
  AuditConflictError,
  type AuditStore,
  createCheckpointSigner,
  createKeyring,
  generateCheckpointKey,
  leafHash,
  openAuditLog,
  type StoreHead,
  ZERO_HASH,
} from '../src/index.js'
import { event, verifyEveryWay } from './helpers.js'

/** Builds `n` chained raw records continuing `head` (bytes are canonical v1 envelopes). */
export function chain(stream: string, head: StoreHead, n: number): AppendRecord[] {
  const out: AppendRecord[] = []
  let prev = head.hash
  for (let k = 0; k < n; k++) {
    const seq = head.size + k
    const bytes = utf8Encode(
      `{"event":{"action":"R","agents":[{"requestor":true,"who":"Device/t"}],"outcome":0,"source":{"observer":"conformance"},"type":"rest"},"prev":"${bytesToHex(prev)}","recorded":"2026-01-01T00:00:00.000Z","seq":${seq},"stream":"${stream}","v":1}`,
    )
    const hash = leafHash(bytes)
    out.push({ seq, bytes, hash, prevHash: prev })
    prev = hash
  }
  return out
}

async function collect(it: AsyncIterable<{ seq: number; bytes: Uint8Array }>) {
  const out: { seq: number; bytes: Uint8Array }[] = []
  for await (const r of it) out.push({ seq: r.seq, bytes: r.bytes.slice() })
  return out
}

/** Registers the AuditStore contract tests for a store factory. */
export function describeStoreConformance(name: string, open: () => Promise<AuditStore>): void {
  describe(`AuditStore conformance: ${name}`, () => {
    it('starts empty, appends atomically against the expected head, and reads exact bytes', async () => {
      const store = await open()
      try {
        const h0 = await store.head()
        expect(h0.size).toBe(0)
        expect(h0.hash).toEqual(ZERO_HASH)
        const batch = chain(store.stream, h0, 5)
        const h1 = await store.append(h0, batch)
        expect(h1.size).toBe(5)
        expect(h1.hash).toEqual(batch[4]!.hash)
        expect(await store.head()).toEqual(h1)
        const all = await collect(store.read(0))
        expect(all.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4])
        for (const [i, r] of all.entries()) expect(r.bytes).toEqual(batch[i]!.bytes)
        expect((await collect(store.read(2, 4))).map((r) => r.seq)).toEqual([2, 3])
        expect(await collect(store.read(5))).toEqual([])
        if (store.readBatches !== undefined) {
          const flat: number[] = []
          for await (const b of store.readBatches(1)) for (const r of b) flat.push(r.seq)
          expect(flat).toEqual([1, 2, 3, 4])
        }
      } finally {
        await store.close()
      }
    })

    it('refuses a stale head with AuditConflictError and writes nothing', async () => {
      const store = await open()
      try {
        const h0 = await store.head()
        const h1 = await store.append(h0, chain(store.stream, h0, 2))
        await expect(store.append(h0, chain(store.stream, h0, 1))).rejects.toThrow(AuditConflictError)
        expect(await store.head()).toEqual(h1)
        expect((await collect(store.read(0))).length).toBe(2)
      } finally {
        await store.close()
      }
    })

    it('stores checkpoints in order and refuses a stale checkpoint count', async () => {
      const store = await open()
      try {
        expect(await store.checkpointHead()).toEqual({ count: 0, latest: null })
        await store.appendCheckpoint(0, { size: 0, jws: '{"a":1}' })
        await store.appendCheckpoint(1, { size: 2, jws: '{"a":2}' })
        await expect(store.appendCheckpoint(1, { size: 3, jws: '{"a":3}' })).rejects.toThrow(
          AuditConflictError,
        )
        expect(await store.readCheckpoints()).toEqual([
          { size: 0, jws: '{"a":1}' },
          { size: 2, jws: '{"a":2}' },
        ])
        expect((await store.checkpointHead()).count).toBe(2)
      } finally {
        await store.close()
      }
    })

    it('runs a signed log end to end and verifies', async () => {
      const store = await open()
      const key = await generateCheckpointKey()
      const log = await openAuditLog({
        store,
        signer: await createCheckpointSigner(key.privateJwk),
        checkpointEvery: { records: 7, ms: 0 },
        closeStore: false,
      })
      try {
        await Promise.all(Array.from({ length: 40 }, (_, i) => log.append(event(i))))
        await log.close()
        const report = await verifyEveryWay(store, {
          keyring: await createKeyring([{ publicJwk: key.publicJwk }]),
        })
        expect(report.findings).toEqual([])
        expect(report.records).toBe(40)
      } finally {
        await store.close()
      }
    })
  })
}
