import { manualClock } from '@safeguards/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type AuditStore,
  type IndexQuery,
  openAuditLog,
  openFileStore,
  queryLog,
  type StoredRecord,
} from '../src/index.js'
import { tempDir } from './helpers.js'
import { appendMix, expectQueriesMatchScan, rows } from './query-conformance.js'

async function mixedLog(n: number) {
  const clock = manualClock(Date.parse('2026-03-01T08:00:00.000Z'))
  const store = await openFileStore({ dir: tempDir(), stream: 'q', durability: 'none' })
  const log = await openAuditLog({ store, clock, closeStore: false })
  for (let i = 0; i < n; i += 25) {
    await appendMix(log, Math.min(25, n - i), i)
    clock.advance(60_000)
  }
  return { store, log, clock }
}

/** What queryLog uses of a store (head and read), with some parts replaced. */
function view(store: AuditStore, parts: Partial<AuditStore>): AuditStore {
  return {
    stream: store.stream,
    head: () => store.head(),
    read: (from: number, to?: number) => store.read(from, to),
    ...parts,
  } as AuditStore
}

/** The store with an index that answers with `pick` of the records (a deliberately sloppy index). */
function withIndex(
  store: AuditStore,
  through: number,
  pick: (r: StoredRecord, q: IndexQuery) => boolean,
): AuditStore {
  return view(store, {
    queryIndex: async (q: IndexQuery) => ({
      through: Math.min(through, q.size),
      records: (async function* () {
        for await (const r of store.read(q.after + 1, Math.min(through, q.size))) if (pick(r, q)) yield r
      })(),
    }),
  })
}

describe('queryLog', () => {
  it('answers each filter, alone and together, exactly as a plain filter over the records', async () => {
    const { store, log } = await mixedLog(300)
    expect(await expectQueriesMatchScan(store)).toBeGreaterThan(10)
    await log.close()
    await store.close()
  })

  it('the log query answers the same, over a snapshot: later appends are not part of it', async () => {
    const { store, log } = await mixedLog(100)
    const result = await log.query({ who: 'Practitioner/5' })
    await appendMix(log, 50, 100)
    const seqs: number[] = []
    for await (const r of result) seqs.push(r.seq)
    expect(result.size).toBe(100)
    expect(seqs.every((s) => s < 100)).toBe(true)
    expect(seqs).toEqual((await rows(store, { who: 'Practitioner/5' }, true)).filter((s) => s < 100))
    expect((await log.query({ who: 'Practitioner/5' })).size).toBe(150)
    await log.close()
    await store.close()
  })

  it('an index that returns extra candidates, or covers only part of the log, never changes the answer (property)', async () => {
    const { store, log } = await mixedLog(200)
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 220 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.constantFrom('Patient/3', 'Patient/11', 'Patient/404'),
        fc.option(fc.integer({ min: -1, max: 199 }), { nil: undefined }),
        async (through, noise, patient, after) => {
          // keeps every match and a pseudo-random share of the rest
          const sloppy = withIndex(store, through, (r) => {
            const text = new TextDecoder().decode(r.bytes)
            return text.includes(`"patient":"${patient}"`) || (r.seq * 2654435761 + noise) % 3 === 0
          })
          const q = { patient, ...(after === undefined ? {} : { after }) }
          expect(await rows(sloppy, q, false)).toEqual(await rows(store, q, true))
        },
      ),
      { numRuns: 40 },
    )
    await log.close()
    await store.close()
  })

  it('reports how far the index reached, and nothing with scan: true', async () => {
    const { store, log } = await mixedLog(100)
    const indexed = withIndex(store, 60, () => true)
    expect((await queryLog(indexed, { patient: 'Patient/3' })).indexed).toBe(60)
    expect((await queryLog(indexed, { patient: 'Patient/3' }, { scan: true })).indexed).toBe(0)
    // a query with no indexed key reads every record
    expect((await queryLog(indexed, { type: 'rest' })).indexed).toBe(0)
    await log.close()
    await store.close()
  })

  it('refuses an index that answers out of order, repeats a record or claims records the log lacks', async () => {
    const { store, log } = await mixedLog(50)
    const twice = view(store, {
      queryIndex: async () => ({
        through: 10,
        records: (async function* () {
          for await (const r of store.read(0, 10)) {
            yield r
            yield r
          }
        })(),
      }),
    })
    await expect(rows(twice, { patient: 'Patient/3' }, false)).rejects.toMatchObject({
      code: 'ERR_AUDIT_CORRUPT',
    })
    const beyond = view(store, {
      queryIndex: async () => ({ through: 51, records: store.read(0, 0) }),
    })
    await expect(queryLog(beyond, { patient: 'Patient/3' })).rejects.toMatchObject({
      code: 'ERR_AUDIT_CORRUPT',
    })
    await log.close()
    await store.close()
  })

  it('refuses a malformed query with a typed error before reading anything', async () => {
    const { store, log } = await mixedLog(10)
    const bad: unknown[] = [
      null,
      { patinet: 'Patient/1' },
      { patient: '' },
      { who: 7 },
      { from: 'yesterday' },
      { to: new Date(Number.NaN) },
      { action: 'X' },
      { outcome: 3 },
      { after: -2 },
      { after: 1.5 },
      { limit: 0 },
      { limit: Number.NaN },
    ]
    for (const q of bad)
      await expect(queryLog(store, q as never), JSON.stringify(q)).rejects.toBeInstanceOf(
        q !== null && typeof q === 'object' && ('after' in q || 'limit' in q) ? RangeError : TypeError,
      )
    await expect(queryLog(store, { patinet: 'x' } as never)).rejects.toThrow(/did you mean "patient"/)
    await log.close()
    await store.close()
  })

  it('stops at the limit, resumes after a seq, and stops when aborted', async () => {
    const { store, log } = await mixedLog(120)
    const all = await rows(store, { who: 'Practitioner/4' }, true)
    expect(all.length).toBeGreaterThan(4)
    const page1 = await rows(store, { who: 'Practitioner/4', limit: 2 }, true)
    const page2 = await rows(store, { who: 'Practitioner/4', after: page1.at(-1) ?? -1, limit: 2 }, true)
    expect([...page1, ...page2]).toEqual(all.slice(0, 4))
    const ac = new AbortController()
    const result = await queryLog(store, {}, { signal: ac.signal })
    let n = 0
    await expect(
      (async () => {
        for await (const _ of result) if (++n === 5) ac.abort(new Error('stop'))
      })(),
    ).rejects.toThrow('stop')
    expect(n).toBe(5)
    await log.close()
    await store.close()
  })

  it('a record that does not parse stops the query with ERR_AUDIT_CORRUPT naming its seq', async () => {
    const { store, log } = await mixedLog(10)
    const damaged = view(store, {
      read: async function* (from: number, to?: number) {
        for await (const r of store.read(from, to))
          yield r.seq === 4 ? { seq: 4, bytes: new Uint8Array([0x7b]) } : r
      },
    })
    await expect(rows(damaged, {}, true)).rejects.toMatchObject({ code: 'ERR_AUDIT_CORRUPT', seq: 4 })
    await log.close()
    await store.close()
  })

  it('a closed log refuses to query', async () => {
    const { store, log } = await mixedLog(5)
    await log.close()
    await expect(log.query({})).rejects.toMatchObject({ code: 'ERR_AUDIT_CLOSED' })
    await store.close()
  })
})
