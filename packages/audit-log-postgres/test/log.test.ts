import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  AuditCorruptionError,
  type AuditEvent,
  type AuditStore,
  type CheckpointSigner,
  directoryAnchor,
  type Keyring,
  openAuditLog,
  openFileStore,
  type StoredRecord,
} from '@safeguards/audit-log'
import { manualClock } from '@safeguards/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkpointKeys, verifyEveryWay } from '../../audit-log/test/helpers.js'
import { openPostgresStore, type PostgresAuditStore } from '../src/index.js'
import { freshSchema, pgAvailable, type TestDb } from './pg-harness.js'
import { event } from './records.js'

const ev = (i: number): AuditEvent => ({ ...event, requestId: `req-${i}` })

async function all(store: AuditStore): Promise<StoredRecord[]> {
  const out: StoredRecord[] = []
  for await (const r of store.read(0)) out.push(r)
  return out
}

describe.skipIf(!pgAvailable)('the audit log on PostgreSQL', () => {
  let db: TestDb
  let tmp: string
  let signer: CheckpointSigner
  let keyring: Keyring
  beforeAll(async () => {
    db = await freshSchema()
    tmp = await mkdtemp(join(tmpdir(), 'sg-alp-'))
    ;({ signer, keyring } = await checkpointKeys())
  })
  afterAll(async () => {
    await db?.drop()
    if (tmp) await rm(tmp, { recursive: true, force: true })
  })

  /** A stream of `n` events with checkpoints every 10 records, anchored in `<tmp>/<stream>-anchor`. */
  async function populate(stream: string, n: number, anchored = true): Promise<PostgresAuditStore> {
    const store = await openPostgresStore({ pool: db.admin, schema: db.schema, stream })
    const log = await openAuditLog({
      store,
      signer,
      ...(anchored ? { anchor: directoryAnchor(join(tmp, `${stream}-anchor`)) } : {}),
      checkpointEvery: { records: 10, ms: 0 },
      clock: manualClock(Date.UTC(2026, 10, 22, 12)),
      closeStore: false,
      maxBatch: 5,
    })
    for (let i = 0; i < n; i++) await log.append(ev(i))
    await log.close()
    return store
  }

  const verify = (store: AuditStore, stream: string, anchored = true) =>
    verifyEveryWay(store, {
      keyring,
      ...(anchored ? { anchor: directoryAnchor(join(tmp, `${stream}-anchor`)) } : {}),
    })

  /** Runs SQL as the superuser with the append-only triggers bypassed, as an attacker with DBA rights would. */
  async function asSuperuser(sql: string, params: unknown[] = [], method: 'replica' | 'disable' = 'replica') {
    const client = await db.admin.connect()
    const t = `"${db.schema}".audit_entry`
    const c = `"${db.schema}".audit_checkpoint`
    try {
      await client.query('BEGIN')
      if (method === 'replica') await client.query('SET LOCAL session_replication_role = replica')
      else {
        await client.query(`ALTER TABLE ${t} DISABLE TRIGGER USER`)
        await client.query(`ALTER TABLE ${c} DISABLE TRIGGER USER`)
      }
      await client.query(sql.replaceAll('$entry', t).replaceAll('$checkpoint', c), params)
      if (method === 'disable') {
        await client.query(`ALTER TABLE ${t} ENABLE TRIGGER USER`)
        await client.query(`ALTER TABLE ${c} ENABLE TRIGGER USER`)
      }
      await client.query('COMMIT')
    } finally {
      client.release()
    }
  }

  it('stores exactly the bytes and checkpoints the file store stores, and both verify the same', async () => {
    const clock = Date.UTC(2026, 10, 22, 12)
    const pgStore = await openPostgresStore({ pool: db.admin, schema: db.schema, stream: 'twin' })
    const fileStore = await openFileStore({ dir: join(tmp, 'twin'), stream: 'twin', durability: 'none' })
    for (const store of [pgStore, fileStore] as AuditStore[]) {
      const log = await openAuditLog({
        store,
        signer,
        checkpointEvery: { records: 7, ms: 0 },
        clock: manualClock(clock),
        closeStore: false,
      })
      await Promise.all(Array.from({ length: 30 }, (_, i) => log.append(ev(i))))
      await log.close()
    }
    const [a, b] = [await all(pgStore), await all(fileStore)]
    expect(a).toHaveLength(30)
    expect(a.map((r) => Buffer.from(r.bytes).toString('hex'))).toEqual(
      b.map((r) => Buffer.from(r.bytes).toString('hex')),
    )
    expect(await pgStore.head()).toEqual(await fileStore.head())
    expect(await pgStore.readCheckpoints()).toEqual(await fileStore.readCheckpoints())
    const [ra, rb] = [
      await verifyEveryWay(pgStore, { keyring }),
      await verifyEveryWay(fileStore, { keyring }),
    ]
    expect(ra.ok).toBe(true)
    expect(ra.findings.filter((f) => f.severity === 'error')).toEqual([])
    expect({ ...ra, stream: '' }).toEqual({ ...rb, stream: '' })
    expect(ra.checkpointedThrough).toBe(29)
    await pgStore.close()
    await fileStore.close()
  })

  it('an intact log with an anchor verifies clean through the last checkpoint', async () => {
    const store = await populate('clean', 40)
    const report = await verify(store, 'clean')
    expect(report).toMatchObject({ ok: true, records: 40, anchoredThrough: 39 })
    expect(report.findings).toEqual([])
  })

  it('a changed byte, written as superuser with triggers bypassed, is found at its record', async () => {
    const store = await populate('tamper-byte', 40)
    // keep the leaf-hash CHECK satisfied, as a careful attacker would
    await asSuperuser(
      `UPDATE $entry SET body = convert_to(replace(convert_from(body, 'UTF8'), '"req-17"', '"req-71"'), 'UTF8'),
                         entry_hash = sha256('\\x00'::bytea || convert_to(replace(convert_from(body, 'UTF8'), '"req-17"', '"req-71"'), 'UTF8'))
        WHERE stream = 'tamper-byte' AND seq = 17`,
    )
    const report = await verify(store, 'tamper-byte')
    expect(report.ok).toBe(false)
    expect(report.findings[0]).toMatchObject({ seq: 17, severity: 'error' })
    await expect(openAuditLog({ store, closeStore: false })).rejects.toBeInstanceOf(AuditCorruptionError)
  })

  it('a tail rewritten with the leaf-hash CHECK dropped makes the writer fail closed and the verifier name it', async () => {
    const store = await populate('tamper-tail', 12)
    const t = `"${db.schema}".audit_entry`
    await db.admin.query(`ALTER TABLE ${t} DROP CONSTRAINT audit_entry_leaf_hash`)
    try {
      await asSuperuser(
        `UPDATE $entry SET body = convert_to(replace(convert_from(body, 'UTF8'), '"req-11"', '"req-99"'), 'UTF8')
          WHERE stream = 'tamper-tail' AND seq = 11`,
      )
      await expect(store.head()).rejects.toMatchObject({ code: 'ERR_AUDIT_CORRUPT', seq: 11 })
      // a verifier (read-only store) is not stopped by it: it reports the record
      const reader = await openPostgresStore({
        pool: db.admin,
        schema: db.schema,
        stream: 'tamper-tail',
        readOnly: true,
      })
      const report = await verify(reader, 'tamper-tail')
      expect(report.ok).toBe(false)
      expect(report.findings[0]).toMatchObject({ seq: 11, severity: 'error' })
    } finally {
      // put the schema back as the other tests expect it (the tampered stream stays tampered)
      await asSuperuser(`DELETE FROM $entry WHERE stream = 'tamper-tail'`)
      await db.admin.query(
        `ALTER TABLE ${t} ADD CONSTRAINT audit_entry_leaf_hash CHECK (entry_hash = sha256('\\x00'::bytea || body))`,
      )
    }
  })

  it('a deleted record (triggers disabled by the owner) is found at its position', async () => {
    const store = await populate('tamper-delete', 40)
    await asSuperuser(`DELETE FROM $entry WHERE stream = 'tamper-delete' AND seq = 23`, [], 'disable')
    const report = await verify(store, 'tamper-delete')
    expect(report.ok).toBe(false)
    expect(report.findings[0]).toMatchObject({ seq: 23, code: 'SEQ_GAP' })
  })

  it('reordered and duplicated records are found at the first one moved', async () => {
    const swap = await populate('tamper-swap', 40)
    await asSuperuser(
      `UPDATE $entry e SET body = o.body, entry_hash = o.entry_hash
         FROM $entry o WHERE e.stream = 'tamper-swap' AND o.stream = 'tamper-swap'
          AND ((e.seq = 12 AND o.seq = 13) OR (e.seq = 13 AND o.seq = 12))`,
    )
    const r1 = await verify(swap, 'tamper-swap')
    expect(r1.ok).toBe(false)
    expect(r1.findings[0]!.seq).toBe(12)

    const dup = await populate('tamper-dup', 40)
    await asSuperuser(
      `UPDATE $entry e SET body = o.body, entry_hash = o.entry_hash
         FROM $entry o WHERE e.stream = 'tamper-dup' AND o.stream = 'tamper-dup' AND e.seq = 31 AND o.seq = 30`,
    )
    const r2 = await verify(dup, 'tamper-dup')
    expect(r2.ok).toBe(false)
    expect(r2.findings[0]!.seq).toBe(30)
  })

  it('a truncated tail is an error with an anchor, and an unanchored-tail warning without one', async () => {
    const store = await populate('tamper-trunc', 40)
    await asSuperuser(`DELETE FROM $entry WHERE stream = 'tamper-trunc' AND seq >= 35`)
    await asSuperuser(`DELETE FROM $checkpoint WHERE stream = 'tamper-trunc' AND size > 35`)
    const anchored = await verify(store, 'tamper-trunc')
    expect(anchored.ok).toBe(false)
    expect(anchored.findings.map((f) => f.code)).toContain('TRUNCATED')

    const bare = await populate('trunc-bare', 40, false)
    await asSuperuser(`DELETE FROM $entry WHERE stream = 'trunc-bare' AND seq >= 35`)
    await asSuperuser(`DELETE FROM $checkpoint WHERE stream = 'trunc-bare' AND size > 35`)
    const report = await verify(bare, 'trunc-bare', false)
    expect(report.records).toBe(35)
    expect(report.findings.map((f) => f.code)).toContain('UNANCHORED_TAIL')
  })

  it('a stream emptied by TRUNCATE as superuser (stream row kept) says it is empty and unanchored', async () => {
    // its own schema: TRUNCATE empties the tables of every stream
    const own = await freshSchema()
    try {
      const store = await openPostgresStore({ pool: own.admin, schema: own.schema, stream: 'wiped' })
      const log = await openAuditLog({
        store,
        signer,
        checkpointEvery: { records: 5, ms: 0 },
        closeStore: false,
      })
      for (let i = 0; i < 12; i++) await log.append(ev(i))
      await log.close()
      const client = await own.admin.connect()
      try {
        await client.query('BEGIN')
        await client.query('SET LOCAL session_replication_role = replica')
        await client.query(`TRUNCATE "${own.schema}".audit_entry, "${own.schema}".audit_checkpoint`)
        await client.query('COMMIT')
      } finally {
        client.release()
      }
      const reader = await openPostgresStore({
        pool: own.admin,
        schema: own.schema,
        stream: 'wiped',
        readOnly: true,
      })
      const report = await verifyEveryWay(reader, { keyring })
      expect(report).toMatchObject({ ok: true, records: 0, checkpoints: { total: 0 } })
      expect(report.findings).toEqual([expect.objectContaining({ code: 'EMPTY_LOG', severity: 'warning' })])
      expect(report.findings[0]!.message).toMatch(/empty and unanchored/)
      await store.close()
      await reader.close()
    } finally {
      await own.drop()
    }
  })

  it('a checkpoint rolled back or rewritten as superuser is found', async () => {
    const store = await populate('tamper-ckpt', 40)
    await asSuperuser(
      `DELETE FROM $checkpoint WHERE stream = 'tamper-ckpt' AND idx = (SELECT max(idx) FROM $checkpoint WHERE stream = 'tamper-ckpt')`,
    )
    const r1 = await verify(store, 'tamper-ckpt')
    expect(r1.ok).toBe(false)
    expect(r1.findings.map((f) => f.code)).toContain('ROLLBACK')
  })
})
