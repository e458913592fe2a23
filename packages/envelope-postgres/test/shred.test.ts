/**
 * Crypto-shredding on PostgreSQL: races between encrypting and shredding (two connections, and two
 * processes), and the scale test: 100,000 patients × 5 fields, one shredded; its 5 fields
 * fail with ERR_SUBJECT_SHREDDED, the other 499,995 decrypt; a restart (new pool, new process) does
 * not bring the key back.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createSubjectEnvelope,
  createSubjectKeys,
  LocalKeyring,
  type SubjectKeys,
} from '@safeguards/envelope'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dec, enc, errorCodeOf } from '../../envelope/test/helpers.js'
import { openPostgresSubjectKeyStore, type PostgresSubjectKeyStore } from '../src/index.js'
import { DATABASE_URL, freshSchema, pgAvailable, runChild, type TestDb } from './pg-harness.js'

const FIELDS = ['ssn', 'phone', 'email', 'dob', 'address'] as const

describe.skipIf(!pgAvailable)('crypto-shredding on PostgreSQL', () => {
  let db: TestDb
  let dir: string
  let keyringPath: string
  let kek: LocalKeyring
  const stores: PostgresSubjectKeyStore[] = []
  const openStore = async (): Promise<PostgresSubjectKeyStore> => {
    const s = await openPostgresSubjectKeyStore({ connectionString: DATABASE_URL, schema: db.schema })
    stores.push(s)
    return s
  }
  beforeAll(async () => {
    db = await freshSchema()
    dir = mkdtempSync(join(tmpdir(), 'sg-envpg-'))
    keyringPath = join(dir, 'keyring.json')
    kek = await LocalKeyring.create(keyringPath)
  })
  afterAll(async () => {
    for (const s of stores) await s.close()
    await db?.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  /** Asserts no subject key is active for `ids` and every ciphertext fails with ERR_SUBJECT_SHREDDED. */
  async function assertShredded(subjects: SubjectKeys, ids: readonly string[], cts: readonly Uint8Array[]) {
    const fresh = createSubjectEnvelope({
      subjects: createSubjectKeys({ kek, store: await openStore(), cacheTtlMs: 0 }),
    })
    for (const id of ids) expect(await subjects.status(id)).toBe('shredded')
    for (const ct of cts)
      expect(await fresh.decrypt(ct, {}).then(() => 'readable', errorCodeOf)).toBe('ERR_SUBJECT_SHREDDED')
  }

  it('an encrypt racing a shred on another connection never leaves a usable key', async () => {
    const a = createSubjectKeys({ kek, store: await openStore(), cacheTtlMs: 0 })
    const b = createSubjectKeys({ kek, store: await openStore(), cacheTtlMs: 0 })
    const envA = createSubjectEnvelope({ subjects: a })
    const ids = Array.from({ length: 100 }, (_, i) => `race-${i}`)
    const outcomes = await Promise.all(
      ids.map(async (id) => {
        const [ct] = await Promise.all([
          envA.encrypt(id, enc(id), {}).then(
            (c) => c,
            (e: unknown) => errorCodeOf(e),
          ),
          b.shredSubject(id),
        ])
        return ct
      }),
    )
    const cts = outcomes.filter((o): o is Uint8Array => o instanceof Uint8Array)
    for (const o of outcomes) if (!(o instanceof Uint8Array)) expect(o).toBe('ERR_SUBJECT_SHREDDED')
    await assertShredded(a, ids, cts)
    // and afterwards every encrypt fails instead of creating a key
    for (const id of ids.slice(0, 10))
      expect(await envA.encrypt(id, enc('again'), {}).then(() => 'created', errorCodeOf)).toBe(
        'ERR_SUBJECT_SHREDDED',
      )
  })

  it('another process encrypting while this one shreds: fails from the shred on, no new key', async () => {
    const subjects = createSubjectKeys({ kek, store: await openStore(), cacheTtlMs: 0 })
    const ids = Array.from({ length: 20 }, (_, i) => `proc-${i}`)
    const child = runChild<Record<string, string[]>>('subject-child.ts', {
      mode: 'encrypt',
      keyring: keyringPath,
      schema: db.schema,
      subjects: ids,
      rounds: 40,
    })
    // shred as soon as the child has created its first key for these subjects
    const deadline = Date.now() + 60_000
    while ((await subjects.status(ids[0] as string)) === 'none' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5))
    for (const id of ids) await subjects.shredSubject(id)
    const results = await child
    const cts: Uint8Array[] = []
    let failures = 0
    for (const id of ids) {
      const attempts = results[id] ?? []
      expect(attempts).toHaveLength(40)
      const firstFailure = attempts.findIndex((r) => !r.startsWith('ct:'))
      if (firstFailure >= 0) {
        // once shredded, never a success again (no key was created after the tombstone)
        expect(attempts.slice(firstFailure).every((r) => r === 'ERR_SUBJECT_SHREDDED')).toBe(true)
        failures += attempts.length - firstFailure
      }
      for (const r of attempts) if (r.startsWith('ct:')) cts.push(Buffer.from(r.slice(3), 'hex'))
    }
    expect(failures).toBeGreaterThan(0) // the race did happen
    await assertShredded(subjects, ids, cts)
  }, 120_000)

  it('100,000 patients × 5 fields: shred one, its 5 fields fail with ERR_SUBJECT_SHREDDED, the other 499,995 decrypt', async () => {
    // The subject keys live in PostgreSQL; the 500,000 ciphertexts stay in memory (where they are
    // stored does not matter to the keys, and it keeps the run within the machine's budget).
    const N = 100_000
    const ids = Array.from({ length: N }, (_, i) => `patient-${String(i).padStart(6, '0')}`)
    const value = (id: string, f: string): string => `${f}:${id}`
    const contextOf = (id: string, f: string) => ({ table: 'patient', id, column: f })
    const subjects = createSubjectKeys({
      kek,
      store: await openStore(),
      cacheTtlMs: 600_000,
      maxCacheEntries: 2 * N,
    })
    const envelope = createSubjectEnvelope({ subjects })
    const t0 = performance.now()
    for (let i = 0; i < N; i += 10_000) await subjects.ensureSubjects(ids.slice(i, i + 10_000))
    const tKeys = performance.now()
    const cts: Uint8Array[] = []
    for (const id of ids)
      for (const f of FIELDS) cts.push(await envelope.encrypt(id, enc(value(id, f)), contextOf(id, f)))
    const tWrite = performance.now()
    expect(
      Number(
        (await db.admin.query(`SELECT count(*) AS n FROM "${db.schema}".subject_key WHERE ref <> 'ns'`))
          .rows[0].n,
      ),
    ).toBeGreaterThanOrEqual(N)
    const victim = 'patient-042424'
    expect(await subjects.shredSubject(victim, { actor: 'test' })).toMatchObject({ outcome: 'destroyed' })

    // every field, by the instance that shredded (its cache is warm for the others)
    let ok = 0
    const shredded: string[] = []
    for (const [i, id] of ids.entries()) {
      for (const [j, f] of FIELDS.entries()) {
        try {
          const pt = dec(await envelope.decrypt(cts[i * 5 + j] as Uint8Array, contextOf(id, f)))
          if (pt !== value(id, f)) throw new Error(`wrong plaintext for ${id}/${f}`)
          ok++
        } catch (e) {
          shredded.push(`${id}/${f}:${errorCodeOf(e)}`)
        }
      }
    }
    const tRead = performance.now()
    expect(ok).toBe(499_995)
    expect(shredded).toEqual(FIELDS.map((f) => `${victim}/${f}:ERR_SUBJECT_SHREDDED`))

    // a restart: a new pool and new subject keys (a sample of 2,000 subjects and the victim), then a new process
    const restarted = createSubjectEnvelope({
      subjects: createSubjectKeys({ kek, store: await openStore() }),
    })
    const victimIndex = ids.indexOf(victim)
    const sample = [victimIndex, ...Array.from({ length: 2_000 }, (_, k) => (k * 49_999 + 7) % N)]
    let sampleOk = 0
    const sampleFailures: string[] = []
    for (const i of sample)
      for (const [j, f] of FIELDS.entries()) {
        const id = ids[i] as string
        const r = await restarted
          .decrypt(cts[i * 5 + j] as Uint8Array, contextOf(id, f))
          .then((pt) => dec(pt) === value(id, f), errorCodeOf)
        if (r === true) sampleOk++
        else sampleFailures.push(`${id}:${r}`)
      }
    expect(sampleFailures).toEqual(FIELDS.map(() => `${victim}:ERR_SUBJECT_SHREDDED`))
    expect(sampleOk).toBe((sample.length - 1) * 5)
    const hex = (i: number) => Buffer.from(cts[i] as Uint8Array).toString('hex')
    const child = await runChild<{ results: string[] }>('subject-child.ts', {
      mode: 'decrypt',
      keyring: keyringPath,
      schema: db.schema,
      items: [
        ...FIELDS.map((f, j) => ({ ct: hex(victimIndex * 5 + j), context: contextOf(victim, f) })),
        { ct: hex(7 * 5), context: contextOf('patient-000007', 'ssn') },
      ],
    })
    expect(child.results).toEqual([...FIELDS.map(() => 'ERR_SUBJECT_SHREDDED'), 'ok:ssn:patient-000007'])
    console.info(
      `100k×5: subject keys ${((tKeys - t0) / 1000).toFixed(1)} s, encrypt 500k ${((tWrite - tKeys) / 1000).toFixed(1)} s, decrypt 500k ${((tRead - tWrite) / 1000).toFixed(1)} s`,
    )
  }, 1_800_000)
})
