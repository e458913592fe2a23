/**
 * Writer scaling on one PostgreSQL stream (issue 16 §1), every figure durable (acknowledged after
 * COMMIT), 64 appends in flight per process, side by side in one run with alternating rounds:
 * - eight writer processes against one, both with the query keys kept (target: eight ≥ one);
 * - the cost of keeping the query keys: the same writers on a schema whose key trigger is disabled
 *   (target: ≥ 0.9×, so upkeep costs ≤ 10%), with one process and with eight;
 * - eight writers appending server-built (the database builds each batch under the stream's lock,
 *   one statement) against the optimistic protocol used before (build on the known head; refused,
 *   catch up, rebuild, retry).
 * - what group commit costs a lone writer: one connection, 64-event server-built appends through
 *   version 5's queued procedure against version 4's single-statement function (same schema).
 * - the key upkeep again without the writers' own work and their handoffs: one connection appending
 *   64-record batches through `store.append`, keyed schema against unkeyed, in many short
 *   alternating rounds (the busy shared host makes the process fleets above noisy). Its floor is
 *   the least a per-record index whose keys the database reads from the records can cost: the key
 *   trigger only parses each body (PostgreSQL's jsonb, the cheapest parse measured) and stores
 *   nothing, and the same two keys per record are plain btree entries on `audit_entry` computed
 *   from `seq` (no key rows, no extraction).
 * Each of our fleet runs is checked afterwards: no fork, no gap, `verifyLog` passes.
 */
import { randomBytes } from 'node:crypto'
import { type StoreHead, ZERO_HASH } from '@safeguards/audit-log'
import pg from 'pg'
import type { CustomSide, OpSide, Scenario } from '../../../scripts/bench/types.ts'
import { migrate, openPostgresStore, type PostgresAuditStore } from '../src/index.js'
import { buildRecords } from '../test/records.js'
import { checkStream, DATABASE_URL, fleet, type WorkerMode } from './fleet.js'

const MS = Number(process.env.SG_BENCH_MS ?? 4000)
const ROUNDS = Number(process.env.SG_BENCH_ROUNDS ?? 3)
const tag = `${process.pid}_${randomBytes(4).toString('hex')}`
const keyed = `sg_alp_wbench_${tag}`
const unkeyed = `sg_alp_wbench_nokeys_${tag}`
const bare = `sg_alp_wbench_bare_${tag}`
let admin: pg.Pool | undefined
let run = 0

function side(label: string, mode: WorkerMode, schema: () => string, processes: number): CustomSide {
  return {
    name: `${label}: ${processes} process(es) × 64 in flight`,
    async measure() {
      const stream = `w-${++run}`
      const rate = await fleet(mode, schema(), stream, processes, MS)
      return { value: rate, extra: await checkStream(admin!, schema(), stream) }
    },
  }
}

const stores: PostgresAuditStore[] = []

/** Appends one 64-record batch per op through `store.append` (records built like the log's). */
function batchSide(label: string, schema: () => string): OpSide {
  let store: PostgresAuditStore | undefined
  let head: StoreHead = { size: 0, hash: ZERO_HASH }
  return {
    name: `${label}: store.append, 64-record batches, one connection`,
    async op() {
      store ??= await openPostgresStore({ pool: admin!, schema: schema(), stream: 'batches' })
      if (!stores.includes(store)) stores.push(store)
      const out = buildRecords(
        'batches',
        head,
        64,
        'b',
        (seq) => ({
          type: 'rest',
          action: 'R',
          outcome: 0,
          agents: [{ who: `Practitioner/${seq % 2000}`, requestor: true, role: ['doctor'] }],
          source: { observer: 'ehr-api', site: 'clinic-7' },
          patient: `Patient/${seq % 50_000}`,
          entities: [{ what: `Observation/${seq}`, type: '2', role: '4' }],
        }),
        '2026-12-06T12:00:00.000Z',
      )
      head = await store.append(head, out)
    },
  }
}

const encoder = new TextEncoder()

/**
 * One 64-event server-built append per op on one connection (no other writer): schema version 5's
 * queued procedure (queue, gate, drain, answer: three transactions in one call) against version 4's
 * single-statement function, still shipped, on the same schema. What group commit costs a lone writer.
 */
function builtSide(label: string, how: 'queued' | 'direct'): OpSide {
  const stream = `built-${how}`
  let head: StoreHead = { size: 0, hash: ZERO_HASH }
  let n = 0
  const sql =
    how === 'queued'
      ? `CALL "${keyed}".audit_append_queued($1, $2, $3, $4, $5, 5000, NULL, NULL, NULL, NULL)`
      : `SELECT hashes FROM "${keyed}".audit_append_events($1, $2, $3, $4, $5, 5000)`
  return {
    name: `${label}: 64-event server-built appends, one connection`,
    async op() {
      if (n === 0) await admin!.query(`INSERT INTO "${keyed}".audit_stream (stream) VALUES ($1)`, [stream])
      const events = Array.from({ length: 64 }, () =>
        encoder.encode(
          `{"action":"R","agents":[{"requestor":true,"who":"Practitioner/${n % 2000}"}],"outcome":0,"patient":"Patient/${n++ % 50_000}","source":{"observer":"ehr-api"},"type":"rest"}`,
        ),
      )
      const { rows } = await admin!.query<{ hashes: Uint8Array }>(sql, [
        stream,
        head.size,
        head.hash,
        events,
        '2026-12-06T12:00:00.000Z',
      ])
      const hashes = rows[0]!.hashes
      head = { size: head.size + 64, hash: new Uint8Array(hashes.subarray(hashes.length - 32)) }
    },
  }
}

async function setup(): Promise<void> {
  if (admin !== undefined) return
  admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 })
  await migrate(admin, { schema: keyed })
  await migrate(admin, { schema: unkeyed })
  await admin.query(`ALTER TABLE "${unkeyed}".audit_entry DISABLE TRIGGER audit_entry_keys`)
  await migrate(admin, { schema: bare })
  await admin.query(`CREATE OR REPLACE FUNCTION "${bare}".audit_entry_keys() RETURNS trigger
    LANGUAGE plpgsql AS $fn$ BEGIN
      PERFORM count(*) FROM new_rows n WHERE (convert_from(n.body, 'UTF8')::jsonb -> 'event') IS NULL;
      RETURN NULL;
    END $fn$`)
  // The keys batchSide's records carry (patient, requestor), as index entries derived from seq.
  for (const [kind, modulus] of [
    ['Patient', 50_000],
    ['Practitioner', 2000],
  ] as const)
    await admin.query(
      `CREATE INDEX ON "${bare}".audit_entry (stream, ('${kind}/' || (seq % ${modulus})::text) COLLATE "C", seq)`,
    )
}

async function teardown(): Promise<void> {
  if (admin === undefined) return
  for (const store of stores.splice(0)) await store.close()
  await admin.query(`DROP SCHEMA IF EXISTS "${keyed}" CASCADE`)
  await admin.query(`DROP SCHEMA IF EXISTS "${unkeyed}" CASCADE`)
  await admin.query(`DROP SCHEMA IF EXISTS "${bare}" CASCADE`)
  await admin.end()
  admin = undefined
}

const withKeys = (): string => keyed
const withoutKeys = (): string => unkeyed
const common = { unit: 'events/s', rounds: ROUNDS, setup, teardown }

const scenarios: Scenario[] = [
  {
    name: 'PostgreSQL writers: 8 processes vs 1 (query keys kept)',
    ...common,
    ours: side('audit log, server-built, with keys', 'ours', withKeys, 8),
    anchor: side('audit log, server-built, with keys', 'ours', withKeys, 1),
    target: { ratio: 1, text: '8 writers ≥ 1 writer' },
  },
  {
    name: 'PostgreSQL writers: query-key upkeep, 1 process',
    ...common,
    ours: side('with keys', 'ours', withKeys, 1),
    anchor: side('key trigger disabled', 'ours', withoutKeys, 1),
    target: { ratio: 0.9, text: 'upkeep ≤ 10%' },
  },
  {
    name: 'PostgreSQL writers: query-key upkeep, 8 processes',
    ...common,
    ours: side('with keys', 'ours', withKeys, 8),
    anchor: side('key trigger disabled', 'ours', withoutKeys, 8),
    target: { ratio: 0.9, text: 'upkeep ≤ 10%' },
  },
  {
    name: 'PostgreSQL writers: server-built vs optimistic retries, 8 processes',
    ...common,
    ours: side('server-built', 'ours', withKeys, 8),
    anchor: side('optimistic (before)', 'optimistic', withKeys, 8),
  },
  {
    name: 'PostgreSQL writers: one writer, group-commit procedure (v5) vs single statement (v4)',
    unit: 'batches/s',
    ours: builtSide('audit_append_queued (v5)', 'queued'),
    anchor: builtSide('audit_append_events (v4)', 'direct'),
    timeMs: 8000,
    rounds: 8,
    setup,
    teardown,
  },
  {
    name: 'PostgreSQL writers: query-key upkeep, 64-record durable appends on one connection',
    unit: 'batches/s',
    ours: batchSide('with keys', withKeys),
    anchor: batchSide('key trigger disabled', withoutKeys),
    floor: batchSide(
      'trigger parses each body, stores nothing; two btree entries per record from seq',
      () => bare,
    ),
    target: { ratio: 0.9, text: 'upkeep ≤ 10%' },
    timeMs: 12_000,
    rounds: 12,
    setup,
    teardown,
  },
]

export default scenarios
