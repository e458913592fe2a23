/**
 * Queries on the PostgreSQL store (issue 16 §1): the key table kept by the append's transaction
 * answers every conformance query exactly as a scan does; a migration keys the records stored
 * before it; concurrent writer processes keep the key table exact; a failed append leaves no keys.
 */
import {
  type AppendRecord,
  openAuditLog,
  queryLog,
  type StoreHead,
  verifyLog,
  ZERO_HASH,
} from '@safeguards/audit-log'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { appendMix, expectQueriesMatchScan, mixedEvent } from '../../audit-log/test/query-conformance.js'
import { migrate, openPostgresStore } from '../src/index.js'
import { migrateTo } from '../src/migrations.js'
import { fixture, runChild } from './child.js'
import { DATABASE_URL, freshSchema, pgAvailable, type TestDb } from './pg-harness.js'
import { buildRecords, headAfter } from './records.js'

type Key = [kind: string, value: string, seq: number]

/** Calls audit_append as the owner (`prevs` overrides the records' prev hashes). */
function rawAppend(
  db: TestDb,
  stream: string,
  head: StoreHead,
  rs: readonly AppendRecord[],
  prevs: readonly Uint8Array[] = rs.map((r) => r.prevHash),
): Promise<unknown> {
  return db.admin.query(`SELECT ok FROM "${db.schema}".audit_append($1, $2, $3, $4, $5, $6, $7)`, [
    stream,
    head.size,
    head.hash,
    rs.map((r) => r.seq),
    prevs,
    rs.map((r) => r.hash),
    rs.map((r) => r.bytes),
  ])
}

/** The keys the records of `stream` must have, computed here from their bytes. */
async function expectedKeys(db: TestDb, stream: string): Promise<Key[]> {
  const { rows } = await db.admin.query<{ seq: string; body: Buffer }>(
    `SELECT seq::text AS seq, body FROM "${db.schema}".audit_entry WHERE stream = $1`,
    [stream],
  )
  const keys: Key[] = []
  for (const row of rows) {
    const { event } = JSON.parse(row.body.toString('utf8')) as {
      event: { patient?: string; agents: { who: string }[] }
    }
    const seq = Number(row.seq)
    if (event.patient !== undefined) keys.push(['p', event.patient, seq])
    for (const who of new Set(event.agents.map((a) => a.who))) keys.push(['a', who, seq])
  }
  return keys.sort(compareKeys)
}

function compareKeys(a: Key, b: Key): number {
  return a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]) || a[2] - b[2]
}

async function storedKeys(db: TestDb, stream: string): Promise<Key[]> {
  const { rows } = await db.admin.query<{ kind: string; value: string; seq: string }>(
    `SELECT kind, value, seq::text AS seq FROM "${db.schema}".audit_entry_key WHERE stream = $1`,
    [stream],
  )
  return rows.map((r): Key => [r.kind, r.value, Number(r.seq)]).sort(compareKeys)
}

async function expectKeysExact(db: TestDb, stream: string, records: number): Promise<void> {
  const want = await expectedKeys(db, stream)
  expect(new Set(want.map((k) => k[2])).size).toBe(records)
  expect(await storedKeys(db, stream)).toEqual(want)
}

describe.skipIf(!pgAvailable)('queries on the PostgreSQL store', () => {
  let db: TestDb
  beforeAll(async () => {
    db = await freshSchema()
  })
  afterAll(async () => {
    await db?.drop()
  })

  it('answers every conformance query through the key table exactly as a scan, in pages', async () => {
    // readBatch 7: the index answers in many keyset pages, so paging is exercised.
    const store = await openPostgresStore({
      connectionString: DATABASE_URL,
      schema: db.schema,
      stream: 'mix',
      maxConnections: 2,
      readBatch: 7,
    })
    const log = await openAuditLog({ store, closeStore: false, maxBatch: 50 })
    await appendMix(log, 600)
    await log.close()
    try {
      expect(await expectQueriesMatchScan(store)).toBeGreaterThan(10)
      // keyed queries come from the index, which covers the whole snapshot
      const result = await queryLog(store, { patient: 'Patient/3' })
      expect(result).toMatchObject({ size: 600, indexed: 600 })
      expect((await queryLog(store, { type: 'rest' })).indexed).toBe(0)
      await expectKeysExact(db, 'mix', 600)
      // candidates of a patient+user query are narrowed by both keys
      const answer = await store.queryIndex({
        patient: 'Patient/3',
        who: 'Practitioner/5',
        after: -1,
        size: 600,
      })
      const candidates: number[] = []
      for await (const r of answer!.records) candidates.push(r.seq)
      const both = await queryLog(store, { patient: 'Patient/3', who: 'Practitioner/5' }, { scan: true })
      const matched: number[] = []
      for await (const r of both) matched.push(r.seq)
      expect(candidates).toEqual(matched)
    } finally {
      await store.close()
    }
  })

  it('verify --deep checks the key table against the records: a key removed or forged is INDEX_MISMATCH', async () => {
    const store = await openPostgresStore({
      connectionString: DATABASE_URL,
      schema: db.schema,
      stream: 'deep',
      readBatch: 16,
    })
    const log = await openAuditLog({ store, closeStore: false })
    await appendMix(log, 120)
    await log.close()
    const s = `"${db.schema}"`
    const mismatches = async () =>
      (await verifyLog(store, { deep: true, workers: 0 })).findings.filter((f) => f.code === 'INDEX_MISMATCH')
    try {
      expect(await store.checkIndex(120)).toEqual([])
      expect(await mismatches()).toEqual([])
      // someone with superuser rights (the append-only triggers bypassed) hides a record from a
      // patient's access report and files seq 119 under another user
      const { rows } = await db.admin.query<{ seq: string }>(
        `SELECT seq::text AS seq FROM ${s}.audit_entry_key WHERE stream = 'deep' AND kind = 'p' ORDER BY seq LIMIT 1`,
      )
      const hidden = Number(rows[0]?.seq)
      expect(hidden).toBeLessThan(119)
      const client = await db.admin.connect()
      try {
        await client.query('BEGIN')
        await client.query('SET LOCAL session_replication_role = replica')
        await client.query(
          `DELETE FROM ${s}.audit_entry_key WHERE stream = 'deep' AND seq = $1 AND kind = 'p'`,
          [hidden],
        )
        await client.query(
          `INSERT INTO ${s}.audit_entry_key (stream, kind, value, seq) VALUES ('deep', 'a', 'Practitioner/999', 119)`,
        )
        await client.query('COMMIT')
      } finally {
        client.release()
      }
      expect((await store.checkIndex(120)).map((p) => [p.seq, p.severity])).toEqual([
        [hidden, 'error'],
        [119, 'error'],
      ])
      const found = await mismatches()
      expect(found.map((f) => [f.seq, f.severity])).toEqual([
        [hidden, 'error'],
        [119, 'error'],
      ])
      // without deep, the index is not read
      const shallow = await verifyLog(store, { deep: false, workers: 0 })
      expect(shallow.findings.filter((f) => f.code === 'INDEX_MISMATCH')).toEqual([])
    } finally {
      await store.close()
    }
  })

  it('a failed append leaves no key rows (the keys are written in its transaction)', async () => {
    const store = await openPostgresStore({
      connectionString: DATABASE_URL,
      schema: db.schema,
      stream: 'fail',
    })
    try {
      const good = buildRecords('fail', { size: 0, hash: ZERO_HASH }, 3, 'ok', mixedEvent)
      await store.append({ size: 0, hash: ZERO_HASH }, good)
      const head: StoreHead = headAfter(good, { size: 0, hash: ZERO_HASH })
      // A batch whose last record does not chain: the keys trigger has run for the whole batch
      // when the link trigger refuses it, and both go with the rolled back statement.
      const bad = buildRecords('fail', head, 4, 'bad', (seq) => mixedEvent(seq + 100))
      const s = `"${db.schema}"`
      const prevs = [...bad.slice(0, 3).map((r) => r.prevHash), new Uint8Array(32).fill(7)]
      const refused = rawAppend(db, 'fail', head, bad, prevs)
      await expect(refused).rejects.toMatchObject({ code: 'SGA02' })
      expect((await store.head()).size).toBe(3)
      await expectKeysExact(db, 'fail', 3)
      const { rows } = await db.admin.query(
        `SELECT count(*)::int AS n FROM ${s}.audit_entry_key WHERE stream = 'fail' AND seq >= 3`,
      )
      expect(rows[0].n).toBe(0)
    } finally {
      await store.close()
    }
  })

  it('two writer processes appending concurrently keep the key table exact', async () => {
    const script = fixture('mix-writer.ts')
    const args = (from: number) => [DATABASE_URL, db.schema, 'two', String(from), '300']
    await Promise.all([runChild('writer A', script, args(0)), runChild('writer B', script, args(300))])
    await expectKeysExact(db, 'two', 600)
    const store = await openPostgresStore({
      connectionString: DATABASE_URL,
      schema: db.schema,
      stream: 'two',
    })
    try {
      await expectQueriesMatchScan(store)
    } finally {
      await store.close()
    }
  }, 25_000)
})

describe.skipIf(!pgAvailable)('migrating a version 3 schema that holds records', () => {
  let db: TestDb
  beforeAll(async () => {
    db = await freshSchema({ migrateIt: false })
  })
  afterAll(async () => {
    await db?.drop()
  })

  it('keys every existing record, and queries then equal the scan', async () => {
    expect(await migrateTo(db.admin, db.schema, 3)).toMatchObject({ version: 3 })
    const s = `"${db.schema}"`
    await db.admin.query(`INSERT INTO ${s}.audit_stream (stream) VALUES ('old'), ('other')`)
    for (const stream of ['old', 'other']) {
      let head: StoreHead = { size: 0, hash: ZERO_HASH }
      for (let batch = 0; batch < 4; batch++) {
        const rs = buildRecords(stream, head, 100, stream, (seq) => mixedEvent(seq, stream === 'old' ? 7 : 8))
        await rawAppend(db, stream, head, rs)
        head = headAfter(rs, head)
      }
    }
    expect(await migrate(db.admin, { schema: db.schema })).toMatchObject({ applied: [4, 5], version: 5 })
    await expectKeysExact(db, 'old', 400)
    await expectKeysExact(db, 'other', 400)
    const store = await openPostgresStore({
      connectionString: DATABASE_URL,
      schema: db.schema,
      stream: 'old',
    })
    try {
      expect(await expectQueriesMatchScan(store)).toBeGreaterThan(10)
      // appends after the migration are keyed by the trigger
      const log = await openAuditLog({ store, closeStore: false })
      await appendMix(log, 50, 400)
      await log.close()
      await expectKeysExact(db, 'old', 450)
      await expectQueriesMatchScan(store)
    } finally {
      await store.close()
    }
  })
})
