/**
 * Bench (issue 17 §2): building the SSN blind index for 100,000 rows, target ≤ 5 s.
 *
 *   pnpm --filter @safeguards-examples/patient-search bench            # all stages
 *   ROWS=100000 ROUNDS=5 DATABASE_URL=postgres://… pnpm … bench
 *
 * Stages, each timed on its own, in one process:
 * 1. compute: `index.compute(ssn)` for every row (normalise + HMAC-SHA-256 + hex), in alternating
 *    rounds with the anchor, a bare node:crypto `createHmac` over the already-normalised digits
 *    with the index key precomputed (the floor of any HMAC blind index here);
 * 2. build: compute + write `ssn_bidx` for every row (`UPDATE … FROM unnest`, 10,000 per
 *    statement) + `CREATE INDEX … USING btree (ssn_bidx)`: the index build from plaintexts, as at
 *    import time;
 * 3. rebuild: the same from the stored ciphertexts (`reindexPatients`: decrypt, compute, write)
 *    + `CREATE INDEX`: adding an index, or rotating it, on a table that only has ciphertexts.
 * Prints medians and the load average before and after.
 */
import { createHmac, randomBytes } from 'node:crypto'
import { loadavg } from 'node:os'
import {
  createBlindIndex,
  createEnvelope,
  importBlindIndexKey,
  LocalKeyring,
  normalizeSsn,
} from '@safeguards/envelope'
import pg from 'pg'
import { createPatientTable, createSsnIndex, insertPatients, reindexPatients } from '../src/index.js'

const ROWS = Number(process.env.ROWS ?? 100_000)
const ROUNDS = Number(process.env.ROUNDS ?? 5)
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const BITS = 15

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')
const ssnOf = (i: number): string => {
  const d = String((123_456_789 + i * 7919) % 1_000_000_000).padStart(9, '0')
  return `${d.slice(0, 3)}-${d.slice(3, 5)}-${d.slice(5)}`
}

const ssns = Array.from({ length: ROWS }, (_, i) => ssnOf(i))
const digits = ssns.map((s) => s.replaceAll('-', ''))
const index = createBlindIndex({
  key: importBlindIndexKey(randomBytes(32)),
  name: 'patients.ssn',
  bits: BITS,
  normalize: normalizeSsn,
})
const anchorKey = randomBytes(32)
const anchor = (d: string): string =>
  createHmac('sha256', anchorKey).update(d).digest().subarray(0, 2).toString('hex')

console.log(`rows ${ROWS}, bits ${BITS}, rounds ${ROUNDS}; load average before: ${load()}`)

// 1. compute, alternating rounds
const ours: number[] = []
const raw: number[] = []
let sink = 0
for (let r = 0; r < ROUNDS; r++) {
  let t = performance.now()
  for (const s of ssns) sink += index.compute(s).length
  ours.push(performance.now() - t)
  t = performance.now()
  for (const d of digits) sink += anchor(d).length
  raw.push(performance.now() - t)
}
console.log(
  `compute   ours ${median(ours).toFixed(0)} ms, anchor (bare createHmac) ${median(raw).toFixed(0)} ms, ratio ${(median(raw) / median(ours)).toFixed(2)}× (${sink > 0 ? 'ok' : ''})`,
)

// 2 and 3 need PostgreSQL
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 })
const table = `bench_patients_${process.pid}_${randomBytes(4).toString('hex')}`
try {
  const keyring = await LocalKeyring.inMemory()
  const store = { db: pool, table, envelope: createEnvelope({ provider: keyring }), ssnIndex: index }
  await createPatientTable(store, false)
  let t = performance.now()
  await insertPatients(
    store,
    ssns.map((ssn, i) => ({ id: i + 1, ssn })),
  )
  console.log(
    `setup     ${ROWS} encrypted rows inserted in ${(performance.now() - t).toFixed(0)} ms (not part of the index build)`,
  )

  const build: number[] = []
  const rebuild: number[] = []
  const stages: [number, number, number][] = []
  for (let r = 0; r < Math.min(ROUNDS, 3); r++) {
    await pool.query(`DROP INDEX IF EXISTS ${table}_ssn_bidx`)
    await pool.query(`UPDATE ${table} SET ssn_bidx = ''`)
    await pool.query(`VACUUM ${table}`)
    t = performance.now()
    const values = ssns.map((s) => index.compute(s))
    const computed = performance.now()
    for (let at = 0; at < ROWS; at += 10_000) {
      await pool.query(
        `UPDATE ${table} AS p SET ssn_bidx = v.bidx FROM unnest($1::bigint[], $2::text[]) AS v(id, bidx) WHERE p.id = v.id`,
        [
          Array.from({ length: Math.min(10_000, ROWS - at) }, (_, k) => at + k + 1),
          values.slice(at, at + 10_000),
        ],
      )
    }
    const written = performance.now()
    await createSsnIndex(store)
    const done = performance.now()
    build.push(done - t)
    stages.push([computed - t, written - computed, done - written])

    await pool.query(`DROP INDEX IF EXISTS ${table}_ssn_bidx`)
    await pool.query(`VACUUM ${table}`)
    t = performance.now()
    let last: number | undefined = -1
    while (last !== undefined) last = await reindexPatients(store, last, 10_000)
    await createSsnIndex(store)
    rebuild.push(performance.now() - t)
  }
  console.log(
    `build     compute + write + CREATE INDEX: median ${median(build).toFixed(0)} ms (${build.map((x) => x.toFixed(0)).join(', ')})`,
  )
  for (const [c, w, i] of stages) {
    console.log(
      `          compute ${c.toFixed(0)} ms, write ${w.toFixed(0)} ms, CREATE INDEX ${i.toFixed(0)} ms`,
    )
  }
  console.log(
    `rebuild   decrypt + compute + write + CREATE INDEX: median ${median(rebuild).toFixed(0)} ms (${rebuild.map((x) => x.toFixed(0)).join(', ')})`,
  )
} finally {
  await pool.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {})
  await pool.end()
}
console.log(`load average after: ${load()}`)
