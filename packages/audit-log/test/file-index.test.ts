import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { canonicalize, manualClock, utf8Encode } from '@safeguards/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type FileStore, openAuditLog, openFileStore, queryLog, verifyLog } from '../src/index.js'
import { RUN, SegmentBuilder } from '../src/internal/file-index/builder.js'
import { EVERY, encodeIndex, IndexFile } from '../src/internal/file-index/format.js'
import { patientTerm, termsOf, UNINDEXED, whoTerm } from '../src/internal/file-index/terms.js'
import { tempDir } from './helpers.js'
import { appendMix, conformanceQueries, expectQueriesMatchScan, rows } from './query-conformance.js'

const SEGMENT = 16 * 1024

/** A log of `n` mixed events over segments of 16 KiB (about 35 records each), closed. */
async function build(n: number, dir = tempDir(), segmentMaxBytes = SEGMENT): Promise<string> {
  const clock = manualClock(Date.parse('2026-03-01T08:00:00.000Z'))
  const store = await openFileStore({ dir, stream: 'ix', durability: 'none', segmentMaxBytes })
  const log = await openAuditLog({ store, clock })
  for (let i = 0; i < n; i += 20) {
    await appendMix(log, Math.min(20, n - i), i)
    clock.advance(60_000)
  }
  await log.close()
  return dir
}

function indexFiles(dir: string): string[] {
  const d = join(dir, 'index')
  return existsSync(d) ? readdirSync(d).sort() : []
}

function snapshot(dir: string): Map<string, string> {
  return new Map(indexFiles(dir).map((f) => [f, readFileSync(join(dir, 'index', f)).toString('hex')]))
}

/** Every conformance query's rows, by query. */
async function answers(store: FileStore): Promise<string[]> {
  const out: string[] = []
  for (const q of conformanceQueries([])) out.push(JSON.stringify(await rows(store, q, false)))
  return out
}

const open = (dir: string, readOnly = false): Promise<FileStore> =>
  openFileStore({ dir, readOnly, segmentMaxBytes: SEGMENT, durability: 'none' })

describe('file store index', () => {
  it('answers every conformance query as the scan does, over sealed segments and the open tail', async () => {
    const dir = await build(400)
    const store = await open(dir)
    const segments = store.segments().length
    expect(segments).toBeGreaterThan(5)
    // Written when each segment was sealed: one file per sealed segment.
    expect(indexFiles(dir)).toHaveLength(segments - 1)
    expect(await expectQueriesMatchScan(store)).toBe(16)
    const result = await queryLog(store, { patient: 'Patient/3' })
    expect(result.indexed).toBe(result.size)
    // Appends after opening are indexed in memory and answered too.
    const log = await openAuditLog({ store, closeStore: false })
    await appendMix(log, 45, 400)
    expect(await expectQueriesMatchScan(store)).toBe(16)
    await log.close()
    await store.close()
  })

  it('a deleted index is rebuilt with the same answers and the same bytes', async () => {
    const dir = await build(300)
    const store = await open(dir)
    const before = await answers(store)
    const files = snapshot(dir)
    await store.close()
    rmSync(join(dir, 'index'), { recursive: true })
    const again = await open(dir)
    expect(await answers(again)).toEqual(before)
    await again.close()
    expect(snapshot(dir)).toEqual(files)
  })

  it('a damaged, truncated or stale index file is not trusted: answers equal the scan, and it is rebuilt', async () => {
    const dir = await build(300)
    const files = indexFiles(dir)
    const good = snapshot(dir)
    const path = (i: number): string => join(dir, 'index', files[i]!)
    const flipped = readFileSync(path(0))
    flipped[flipped.length - 40]! ^= 1
    writeFileSync(path(0), flipped)
    writeFileSync(path(1), readFileSync(path(1)).subarray(0, 30))
    writeFileSync(path(2), readFileSync(path(3))) // a whole, valid file of another segment
    writeFileSync(path(4), new Uint8Array(0))
    const store = await open(dir)
    expect(await expectQueriesMatchScan(store)).toBe(16)
    await store.close() // rebuilt files are written in the background: close waits for them
    expect(snapshot(dir)).toEqual(good)
  })

  it('recovers from a crash mid index write (a torn temporary file, no index file)', async () => {
    const dir = await build(200)
    const files = indexFiles(dir)
    const name = files[1]!
    const bytes = readFileSync(join(dir, 'index', name))
    rmSync(join(dir, 'index', name))
    const torn = join(dir, 'index', `.${name}.tmp-0123456789abcdef`)
    writeFileSync(torn, bytes.subarray(0, bytes.length >> 1))
    const store = await open(dir)
    expect(await expectQueriesMatchScan(store)).toBe(16)
    await store.close()
    expect(readFileSync(join(dir, 'index', name))).toEqual(bytes)
    expect(existsSync(torn)).toBe(false)
  })

  it('a read-only store uses the index files and writes nothing; without them it reads the records', async () => {
    const dir = await build(300)
    const files = indexFiles(dir)
    // Forge a valid file that leaves out one patient: a read-only store that trusts it loses those rows.
    const seg = Number(files[0]!.slice(0, 20))
    const real = new IndexFile(readFileSync(join(dir, 'index', files[0]!)))
    const content = real.content()
    const patient = [...Array(40).keys()]
      .map((k) => `Patient/${k}`)
      .find((p) => content.terms.has(patientTerm(p)))!
    const term = patientTerm(patient)
    const lost = content.terms.get(term)!
    const terms = new Map(content.terms)
    terms.delete(term)
    const { v: _v, every: _e, terms: _t, ...header } = real.header
    writeFileSync(join(dir, 'index', files[0]!), encodeIndex(header, { terms, offsets: content.offsets }))
    const before = snapshot(dir)
    const ro = await open(dir, true)
    const scanned = await rows(ro, { patient }, true)
    const indexed = await rows(ro, { patient }, false)
    expect(lost.length).toBeGreaterThan(0)
    expect(lost.every((s) => s >= seg && scanned.includes(s))).toBe(true)
    expect(indexed).toEqual(scanned.filter((s) => !lost.includes(s)))
    expect(snapshot(dir)).toEqual(before)
    await ro.close()

    rmSync(join(dir, 'index'), { recursive: true })
    const bare = await open(dir, true)
    expect(await expectQueriesMatchScan(bare)).toBe(16)
    expect(existsSync(join(dir, 'index'))).toBe(false)
    await bare.close()
  })

  it('verify --deep reports a tampered index (INDEX_MISMATCH, error) and a damaged one (warning)', async () => {
    const dir = await build(300)
    const store = await open(dir, true)
    const clean = await verifyLog(store, { deep: true, workers: 0 })
    expect(clean.findings.filter((f) => f.code === 'INDEX_MISMATCH')).toEqual([])
    const files = indexFiles(dir)
    const real = new IndexFile(readFileSync(join(dir, 'index', files[1]!)))
    const content = real.content()
    const terms = new Map(content.terms)
    const term = [...Array(12).keys()].map((k) => whoTerm(`Practitioner/${k}`)).find((t) => terms.has(t))!
    const list = terms.get(term)!
    terms.set(term, list.slice(1)) // one posting missing
    const { v: _v, every: _e, terms: _t, ...header } = real.header
    writeFileSync(join(dir, 'index', files[1]!), encodeIndex(header, { terms, offsets: content.offsets }))
    const damaged = readFileSync(join(dir, 'index', files[2]!))
    damaged[20]! ^= 0xff
    writeFileSync(join(dir, 'index', files[2]!), damaged)
    const report = await verifyLog(store, { deep: true, workers: 0 })
    const found = report.findings.filter((f) => f.code === 'INDEX_MISMATCH')
    expect(found.map((f) => [f.severity, f.seq])).toEqual([
      ['error', list[0]],
      ['warning', real.header.firstSeq + real.header.count],
    ])
    expect(report.ok).toBe(false)
    expect(found[0]!.message).toContain('1 missing and 0 extra')
    // Without deep, the index is not looked at.
    expect((await verifyLog(store, { workers: 0 })).findings.some((f) => f.code === 'INDEX_MISMATCH')).toBe(
      false,
    )
    await store.close()
  })

  it('two writers on one directory: each one answers every query as the scan does', async () => {
    const dir = await build(60)
    const a = await open(dir)
    const b = await open(dir)
    const logA = await openAuditLog({ store: a, closeStore: false })
    const logB = await openAuditLog({ store: b, closeStore: false })
    for (let i = 0; i < 6; i++) {
      await appendMix(i % 2 === 0 ? logA : logB, 30, 60 + i * 30)
      // The other writer sees these records at its next append (refresh), or at its next query.
    }
    expect(await expectQueriesMatchScan(a)).toBe(16)
    expect(await expectQueriesMatchScan(b)).toBe(16)
    await logA.close()
    await logB.close()
    await a.close()
    await b.close()
  })

  it('the open segment keeps a partial file per run: a fresh reader reads only the last run; verify checks them', async () => {
    const dir = tempDir()
    const store = await openFileStore({ dir, stream: 'ix', durability: 'none' })
    const log = await openAuditLog({ store, closeStore: false })
    const n = 2 * RUN + 300
    for (let i = 0; i < n; i += 2048) await appendMix(log, Math.min(2048, n - i), i)
    await log.close()
    await store.close()
    const parts = indexFiles(dir)
    expect(parts).toEqual([
      `${'0'.repeat(20)}-${'0'.repeat(20)}.idx`,
      `${'0'.repeat(20)}-${String(RUN).padStart(20, '0')}.idx`,
    ])
    const ro = await open(dir, true)
    for (const q of [
      { patient: 'Patient/3' },
      { who: 'Device/gateway', after: RUN + 5 },
      { patient: 'Patient/7', who: 'Practitioner/1' },
    ])
      expect(await rows(ro, q, false)).toEqual(await rows(ro, q, true))
    expect(
      (await verifyLog(ro, { deep: true, workers: 0 })).findings.filter((f) => f.code === 'INDEX_MISMATCH'),
    ).toEqual([])
    // A part that lost a posting: a fresh reader trusts it (it is whole and matches), verify finds it.
    const path = join(dir, 'index', parts[1]!)
    const real = new IndexFile(readFileSync(path))
    const content = real.content()
    const terms = new Map(content.terms)
    const [term, list] = [...terms].find(([t]) => t === patientTerm('Patient/3'))!
    terms.set(term, list.slice(0, -1))
    const { v: _v, every: _e, terms: _t, ...header } = real.header
    writeFileSync(path, encodeIndex(header, { terms, offsets: content.offsets }))
    const fresh = await open(dir, true)
    expect(await rows(fresh, { patient: 'Patient/3' }, false)).not.toContain(list[list.length - 1])
    const found = (await verifyLog(fresh, { deep: true, workers: 0 })).findings.filter(
      (f) => f.code === 'INDEX_MISMATCH',
    )
    expect(found.map((f) => [f.severity, f.seq])).toEqual([['error', list[list.length - 1]]])
    // A damaged part is not used: the reader reads that run (and the ones after it) instead.
    writeFileSync(path, readFileSync(path).subarray(0, 100))
    const third = await open(dir, true)
    expect(await rows(third, { patient: 'Patient/3' }, false)).toEqual(
      await rows(third, { patient: 'Patient/3' }, true),
    )
    await Promise.all([ro.close(), fresh.close(), third.close()])
  })

  it('a sealed segment of several runs: full run files and a shorter last one, written as it is sealed', async () => {
    const dir = tempDir()
    const store = await openFileStore({ dir, stream: 'ix', durability: 'none', segmentMaxBytes: 8 << 20 })
    const log = await openAuditLog({ store, closeStore: false })
    const n = RUN + 9000
    for (let i = 0; i < n; i += 2048) await appendMix(log, Math.min(2048, n - i), i)
    await log.close()
    const segs = store.segments()
    await store.close()
    expect(segs.length).toBe(2)
    const next = Number(segs[1]!.slice(0, 20))
    const files = indexFiles(dir)
    expect(files).toEqual([
      `${'0'.repeat(20)}-${'0'.repeat(20)}.idx`,
      `${'0'.repeat(20)}-${String(RUN).padStart(20, '0')}.idx`,
    ])
    const last = new IndexFile(readFileSync(join(dir, 'index', files[1]!)))
    expect(last.header.count).toBe(next - RUN)
    const ro = await open(dir, true)
    for (const q of [{ patient: 'Patient/3' }, { who: 'Device/gateway', after: RUN - 5 }])
      expect(await rows(ro, q, false)).toEqual(await rows(ro, q, true))
    const report = await verifyLog(ro, { deep: true, workers: 0 })
    expect(report.findings.filter((f) => f.code === 'INDEX_MISMATCH')).toEqual([])
    await ro.close()
    // Without its last file, a read-only reader uses the first and reads the rest, writing nothing.
    rmSync(join(dir, 'index', files[1]!))
    const partial = await open(dir, true)
    for (const q of [{ patient: 'Patient/3' }, { who: 'Device/gateway', after: RUN - 5 }])
      expect(await rows(partial, q, false)).toEqual(await rows(partial, q, true))
    await partial.close()
    expect(indexFiles(dir)).toEqual([files[0]])
  })

  it('a record the index cannot read is a candidate of every query: it stops there as the scan does', async () => {
    const dir = await build(120, tempDir())
    const store = await open(dir)
    const last = store.segments().at(-1)!
    await store.close()
    // A record of the open segment (indexed by reading it) that no longer parses.
    const bad = Number(last.slice(0, 20)) + 2
    const seg = join(dir, 'segments', last)
    const bytes = readFileSync(seg)
    let at = 0
    for (let k = 0; k < 2; k++) at = bytes.indexOf(0x0a, at) + 1
    bytes.set(utf8Encode('XXXXXXXXXX'), at)
    writeFileSync(seg, bytes)
    const ro = await open(dir, true)
    for (const q of [{ patient: 'Patient/404' }, { who: 'Practitioner/5' }]) {
      await expect(rows(ro, q, true)).rejects.toMatchObject({ code: 'ERR_AUDIT_CORRUPT', seq: bad })
      await expect(rows(ro, q, false)).rejects.toMatchObject({ code: 'ERR_AUDIT_CORRUPT', seq: bad })
    }
    // Past it, the index answers as the scan does.
    const after = { who: 'Practitioner/5', after: bad }
    expect(await rows(ro, after, false)).toEqual(await rows(ro, after, true))
    await ro.close()
  })

  it('reads from a seq without reading its segment from the start (offset table)', async () => {
    const dir = await build(400, tempDir(), 128 * 1024)
    const store = await open(dir, true)
    const seqs: number[] = []
    for await (const r of store.read(150, 153)) seqs.push(r.seq)
    expect(seqs).toEqual([150, 151, 152])
    await store.close()
    // A read starts at the index file's line for record 128, but checks it first: a forged table
    // whose entry points one line later costs reading from the segment's start, never a wrong record.
    const name = indexFiles(dir)[0]!
    const real = new IndexFile(readFileSync(join(dir, 'index', name)))
    expect(real.header.firstSeq).toBe(0)
    expect(real.header.count).toBeGreaterThan(160)
    const content = real.content()
    const offsets = [...content.offsets]
    const seg = readFileSync(join(dir, 'segments', `${'0'.repeat(20)}.jsonl`))
    offsets[2] = seg.indexOf(0x0a, offsets[2]!) + 1
    const { v: _v, every: _e, terms: _t, ...header } = real.header
    writeFileSync(join(dir, 'index', name), encodeIndex(header, { terms: content.terms, offsets }))
    const forged = await open(dir, true)
    const got: number[] = []
    for await (const r of forged.read(150, 151)) got.push(JSON.parse(new TextDecoder().decode(r.bytes)).seq)
    expect(got).toEqual([150])
    // Queries do not follow it either: a fetched line must be the record wanted.
    for (let k = 0; k < 12; k++) {
      const q = { who: `Practitioner/${k}` }
      expect(await rows(forged, q, false)).toEqual(await rows(forged, q, true))
    }
    const all: number[] = []
    for await (const r of forged.read(0, 400)) all.push(r.seq)
    expect(all).toEqual([...Array(400).keys()])
    await forged.close()
    // With the real table, a read from 150 starts at record 128's line: join two lines before it
    // (same size, same last record) and counting from the segment's start would be one record off.
    writeFileSync(join(dir, 'index', name), encodeIndex(header, content))
    seg[seg.indexOf(0x0a, 100)] = 0x20
    writeFileSync(join(dir, 'segments', `${'0'.repeat(20)}.jsonl`), seg)
    const joined = await open(dir, true)
    const at150: number[] = []
    for await (const r of joined.read(150, 151)) at150.push(JSON.parse(new TextDecoder().decode(r.bytes)).seq)
    expect(at150).toEqual([150])
    // (the check is real: counting from the start, line 20 is record 21 now)
    const line20: number[] = []
    for await (const r of joined.read(20, 21))
      line20.push(Number(/"seq":(\d+),"stream"/.exec(new TextDecoder().decode(r.bytes))?.[1]))
    expect(line20).toEqual([21])
    await joined.close()
  })

  it('reads the whole log in order', async () => {
    const dir = await build(300)
    const store = await open(dir)
    const all: number[] = []
    for await (const r of store.read(0, 300)) all.push(r.seq)
    await queryLog(store, { patient: 'Patient/3' })
    const again: number[] = []
    for await (const r of store.read(0, 300)) again.push(r.seq)
    expect(again).toEqual(all)
    expect(all).toEqual([...Array(300).keys()])
    await store.close()
  })
})

describe('index format and terms', () => {
  const records = fc.array(
    fc.record({
      patient: fc.option(fc.constantFrom('Patient/1', 'Patient/2', 'Pätient/ü', 'P"x', 'P\\y'), {
        nil: undefined,
      }),
      who: fc.array(fc.constantFrom('Practitioner/1', 'Device/gw', 'who', 'patient', '😀/1'), {
        maxLength: 3,
      }),
      len: fc.integer({ min: 0, max: 300 }),
    }),
    { maxLength: 300 },
  )

  function line(seq: number, r: { patient: string | undefined; who: string[]; len: number }): Uint8Array {
    const event = {
      action: 'R',
      agents: r.who.map((who) => ({ requestor: true, role: ['patient'], who })),
      detail: 'x'.repeat(r.len),
      ...(r.patient === undefined ? {} : { patient: r.patient }),
      type: 'rest',
    }
    return utf8Encode(
      canonicalize({
        event,
        prev: '0'.repeat(64),
        recorded: '2026-03-01T08:00:00.000Z',
        seq,
        stream: 's',
        v: 1,
      }),
    )
  }

  it('terms are at least the event patient and every agent who (property)', () => {
    fc.assert(
      fc.property(records, (rs) => {
        rs.forEach((r, seq) => {
          const t = new Set(termsOf(line(seq, r)))
          if (r.patient !== undefined) expect(t.has(patientTerm(r.patient))).toBe(true)
          for (const w of r.who) expect(t.has(whoTerm(w))).toBe(true)
          expect(t.has(UNINDEXED)).toBe(false)
        })
      }),
    )
    expect(termsOf(utf8Encode('{"event":{"patient":"x"'))).toEqual([UNINDEXED])
  })

  it('encode/decode round-trips, and postings equal a naive oracle (property)', () => {
    fc.assert(
      fc.property(records, fc.integer({ min: 0, max: 1e9 }), (rs, first) => {
        const b = new SegmentBuilder(first, first, 0)
        const oracle = new Map<number, number[]>()
        const offsets: number[] = []
        let offset = 0
        rs.forEach((r, i) => {
          const bytes = line(first + i, r)
          if (i % EVERY === 0) offsets.push(offset)
          expect(b.add(first + i, offset, bytes)).toBe(true)
          for (const t of new Set(termsOf(bytes))) oracle.set(t, [...(oracle.get(t) ?? []), first + i])
          offset += bytes.length + 1
        })
        const header = {
          stream: 's',
          firstSeq: first,
          count: rs.length,
          segmentBytes: offset + 1,
          lastEntryHash: 'ab'.repeat(32),
        }
        const file = new IndexFile(encodeIndex(header, b.content()))
        expect(file.header).toMatchObject(header)
        const content = file.content()
        expect(new Map([...content.terms].map(([t, p]) => [t, [...p]]))).toEqual(oracle)
        expect(content.offsets).toEqual(offsets)
        for (const [t, p] of oracle) expect(file.postings(t)).toEqual(p)
        expect(file.postings(patientTerm('nobody'))).toEqual([])
      }),
    )
  })

  it('a damaged file never decodes (property: any one byte flipped, any truncation)', () => {
    const b = new SegmentBuilder(0, 0, 0)
    let offset = 0
    for (let i = 0; i < 200; i++) {
      const bytes = line(i, { patient: `Patient/${i % 7}`, who: [`Practitioner/${i % 3}`], len: 10 })
      b.add(i, offset, bytes)
      offset += bytes.length + 1
    }
    const header = {
      stream: 's',
      firstSeq: 0,
      count: 200,
      segmentBytes: offset,
      lastEntryHash: '00'.repeat(32),
    }
    const bytes = encodeIndex(header, b.content())
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), fc.boolean(), (at, x, cut) => {
        const bad = cut ? bytes.slice(0, at) : bytes.slice()
        if (!cut) bad[at]! ^= x
        expect(() => new IndexFile(bad)).toThrow()
      }),
    )
  })
})
