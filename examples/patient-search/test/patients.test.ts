/**
 * Issue 17 §2 on PostgreSQL: 100,000 patients with encrypted SSNs and a btree-indexed blind
 * index; a lookup by SSN returns the one row (after decrypting the candidates); a rotation to a
 * new root key and width finds rows under either index while the table is half migrated.
 * Timing is not asserted here (see bench/build-index.ts); the test prints what it measured.
 *
 * DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/test; the table name is unique per
 * run and dropped afterwards. With CI=true a missing server is an error, elsewhere a skip.
 */
import { randomBytes } from 'node:crypto'
import {
  blindIndexes,
  blindIndexFalseCandidates,
  createBlindIndex,
  createEnvelope,
  generateBlindIndexKey,
  LocalKeyring,
  normalizeSsn,
  openBlindIndexKey,
  suggestBlindIndexBits,
} from '@safeguards/envelope'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createPatientTable,
  findPatientsBySsn,
  insertPatients,
  type PatientStore,
  reindexPatients,
} from '../src/index.js'

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** The server's absence, as a reason to skip (an error with CI=true); undefined when it answers. */
async function unreachable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 })
  const failure = await client
    .connect()
    .then(() => client.query('SELECT 1'))
    .then(
      () => undefined,
      (error: Error) => `PostgreSQL unreachable at DATABASE_URL (${error.message})`,
    )
  await client.end().catch(() => {})
  if (failure !== undefined && process.env.CI === 'true')
    throw new Error(`${failure}; CI=true requires the server`)
  if (failure !== undefined) console.warn(`skipping PostgreSQL tests: ${failure}`)
  return failure
}
const reason = await unreachable()

const N = 100_000
/** SSN number i: distinct for every i < 10^9 (7919 is prime to 10^9), written in three ways. */
function ssnOf(i: number): string {
  const d = String((123_456_789 + i * 7919) % 1_000_000_000).padStart(9, '0')
  if (i % 3 === 0) return `${d.slice(0, 3)}-${d.slice(3, 5)}-${d.slice(5)}`
  if (i % 3 === 1) return `${d.slice(0, 3)} ${d.slice(3, 5)} ${d.slice(5)}`
  return d
}

describe.skipIf(reason !== undefined)('patients by SSN on PostgreSQL (100,000 rows)', () => {
  const table = `patients_${process.pid}_${randomBytes(6).toString('hex')}`
  let pool: pg.Pool
  let store: PatientStore
  let keyring: LocalKeyring
  const bits = suggestBlindIndexBits(N).max // 15: about 3 rows share each index value

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 })
    keyring = await LocalKeyring.inMemory()
    const { wrapped } = await generateBlindIndexKey(keyring)
    const key = await openBlindIndexKey(keyring, wrapped) // as on every start: unwrap once
    const ssnIndex = createBlindIndex({ key, name: 'patients.ssn', bits, normalize: normalizeSsn })
    store = { db: pool, table, envelope: createEnvelope({ provider: keyring }), ssnIndex }
    await createPatientTable(store)
    const started = performance.now()
    await insertPatients(
      store,
      Array.from({ length: N }, (_, i) => ({ id: i + 1, ssn: ssnOf(i) })),
    )
    console.log(`inserted ${N} encrypted patients in ${Math.round(performance.now() - started)} ms`)
  }, 600_000)

  afterAll(async () => {
    await pool?.query(`DROP TABLE IF EXISTS ${table}`)
    await pool?.end()
  })

  it('finds the one patient with an SSN, written any way, after decrypting the candidates', async () => {
    let candidates = 0
    const probes = [0, 1, 2, 4242, 77_777, N - 1]
    for (const i of probes) {
      const digits = normalizeSsn(ssnOf(i))
      for (const spelling of [digits, `${digits.slice(0, 3)}-${digits.slice(3, 5)}-${digits.slice(5)}`]) {
        const found = await findPatientsBySsn(store, spelling)
        expect(found.ids).toEqual([i + 1])
        expect(found.candidates).toBeGreaterThanOrEqual(1)
        candidates += found.candidates
      }
    }
    const mean = candidates / (2 * probes.length)
    console.log(
      `mean candidates per lookup: ${mean.toFixed(2)} (expected ${(1 + blindIndexFalseCandidates(bits, N)).toFixed(2)})`,
    )
    expect(mean).toBeLessThan(20)

    // the database uses the btree for the lookup
    const plan = await pool.query(
      `EXPLAIN SELECT id, ssn_ct FROM ${table} WHERE ssn_bidx = ANY($1::text[])`,
      [['0000']],
    )
    expect(plan.rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n')).toMatch(/Index|Bitmap/)
  })

  it('returns no patient for an SSN nobody has, and refuses a malformed one', async () => {
    const absent = await findPatientsBySsn(store, '999-99-9999')
    expect(absent.ids).toEqual([])
    await expect(findPatientsBySsn(store, '123-45')).rejects.toMatchObject({ code: 'ERR_BLIND_INDEX_INPUT' })
  })

  it('rotates to a new root key and width: half migrated, every row is still found', async () => {
    const { key } = await generateBlindIndexKey(keyring)
    const previous = store.ssnIndex as ReturnType<typeof createBlindIndex<string>>
    const next = createBlindIndex({ key, name: 'patients.ssn', bits: 14, normalize: normalizeSsn })
    const rotating: PatientStore = { ...store, ssnIndex: blindIndexes(next, previous) }
    // migrate the first half (ids 1..50 000) in batches
    let last: number | undefined = 0
    while (last !== undefined && last < N / 2) last = await reindexPatients(rotating, last, 10_000)
    for (const i of [0, 49_999, 50_000, N - 1]) {
      expect((await findPatientsBySsn(rotating, ssnOf(i))).ids).toEqual([i + 1])
    }
    // the old index alone no longer finds migrated rows; the new one alone not the others
    expect((await findPatientsBySsn({ ...store, ssnIndex: previous }, ssnOf(0))).ids).toEqual([])
    expect((await findPatientsBySsn({ ...store, ssnIndex: next }, ssnOf(N - 1))).ids).toEqual([])
  }, 600_000)
})
