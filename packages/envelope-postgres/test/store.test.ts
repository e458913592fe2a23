import {
  createSubjectEnvelope,
  createSubjectKeys,
  LocalKeyring,
  type WrappedSubjectKey,
} from '@safeguards/envelope'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dec, enc, rejectionCode } from '../../envelope/test/helpers.js'
import {
  migrateSubjectKeys,
  openPostgresSubjectKeyStore,
  type PostgresSubjectKeyStore,
} from '../src/index.js'
import { DATABASE_URL, freshSchema, pgAvailable, type TestDb, uniqueName } from './pg-harness.js'

const wrapped = (n: number): WrappedSubjectKey => ({
  providerId: 'local',
  keyRef: 'local:k@v1',
  edk: new Uint8Array(60).fill(n),
})

describe.skipIf(!pgAvailable)('PostgreSQL subject-key store', () => {
  let db: TestDb
  let store: PostgresSubjectKeyStore
  beforeAll(async () => {
    db = await freshSchema()
    store = await openPostgresSubjectKeyStore({ pool: db.admin, schema: db.schema })
  })
  afterAll(async () => {
    await db?.drop()
  })

  it('migrates idempotently and refuses an unmigrated schema', async () => {
    expect(await migrateSubjectKeys(db.admin, { schema: db.schema })).toEqual({ from: 1, to: 1 })
    expect(
      await rejectionCode(
        openPostgresSubjectKeyStore({ connectionString: DATABASE_URL, schema: uniqueName('sg_none') }),
      ),
    ).toBe('ERR_ENVELOPE_PG_MIGRATION')
    await expect(openPostgresSubjectKeyStore({ pool: db.admin, schema: 'Bad;Name' })).rejects.toThrow(
      RangeError,
    )
  })

  it('create is insert-if-absent; shred keeps a tombstone that nothing revives', async () => {
    const a = await store.create('refA', wrapped(1), 10)
    expect(a).toMatchObject({ ref: 'refA', state: 'active', createdAt: 10 })
    const again = await store.create('refA', wrapped(2), 20)
    expect(again.wrapped?.edk).toEqual(wrapped(1).edk) // the first writer wins
    expect(await store.shred('refA', 30)).toBe('destroyed')
    expect(await store.shred('refA', 40)).toBe('already-shredded')
    expect(await store.shred('refB', 50)).toBe('tombstoned')
    expect(await store.get('refA')).toEqual({ ref: 'refA', state: 'shredded', createdAt: 10, shreddedAt: 30 })
    expect((await store.create('refB', wrapped(3), 60)).state).toBe('shredded')
    expect(await store.replaceWrapped('refA', wrapped(1), wrapped(4))).toBe(false)
    const table = `"${db.schema}".subject_key`
    const sqlState = async (sql: string) => {
      try {
        await db.admin.query(sql)
        return undefined
      } catch (e) {
        return (e as { code?: string }).code
      }
    }
    expect(await sqlState(`DELETE FROM ${table} WHERE ref = 'refA'`)).toBe('SGE01')
    expect(
      await sqlState(
        `UPDATE ${table} SET state = 'active', kek_provider = 'x', kek_key_ref = 'y', edk = '\\x00', shredded_at = NULL WHERE ref = 'refA'`,
      ),
    ).toBe('SGE02')
    expect(await sqlState(`TRUNCATE ${table}`)).toBe('SGE01')
    const row = await db.admin.query(`SELECT edk FROM ${table} WHERE ref = 'refA'`)
    expect(row.rows[0].edk).toBeNull()
  })

  it('two connections creating a subject key at once agree on one key', async () => {
    const kek = await LocalKeyring.inMemory()
    const other = await openPostgresSubjectKeyStore({ connectionString: DATABASE_URL, schema: db.schema })
    try {
      const one = createSubjectKeys({ kek, store, cacheTtlMs: 0 })
      await one.keyRefOf('warm-up') // the namespace key, once
      const envs = [one, createSubjectKeys({ kek, store: other, cacheTtlMs: 0 })].map((subjects) =>
        createSubjectEnvelope({ subjects }),
      )
      for (let round = 0; round < 20; round++) {
        const id = `first-${round}`
        const cts = await Promise.all(envs.map((e, i) => e.encrypt(id, enc(`${i}`), {})))
        const reader = envs[0] as (typeof envs)[0]
        expect(await Promise.all(cts.map(async (ct) => dec(await reader.decrypt(ct, {}))))).toEqual([
          '0',
          '1',
        ])
      }
    } finally {
      await other.close()
    }
  })

  it('rewraps subject keys after KEK rotation, with a pool of its own', async () => {
    const kek = await LocalKeyring.inMemory()
    const schema = uniqueName('sg_envpg_rot')
    const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 })
    try {
      await migrateSubjectKeys(admin, { schema })
      const own = await openPostgresSubjectKeyStore({ connectionString: DATABASE_URL, schema })
      const subjects = createSubjectKeys({ kek, store: own })
      const env = createSubjectEnvelope({ subjects })
      const cts = await Promise.all(['a', 'b', 'c'].map((s) => env.encrypt(s, enc(s), {})))
      await kek.rotate()
      expect(await subjects.rewrapSubjectKeys({ batchSize: 2 })).toEqual({
        rewrapped: 4,
        current: 0,
        skipped: 0,
      })
      await kek.retire(1)
      const fresh = createSubjectEnvelope({ subjects: createSubjectKeys({ kek, store: own }) })
      expect(await Promise.all(cts.map(async (c) => dec(await fresh.decrypt(c, {}))))).toEqual([
        'a',
        'b',
        'c',
      ])
      await subjects.close()
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
      await admin.end()
    }
  })
})
