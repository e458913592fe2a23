import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type ManualClock, manualClock } from '@safeguards/core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  type FindingStore,
  isOpen,
  MonitorFindingStoreError,
  MonitorFindingUnknownError,
  MonitorSelfReviewError,
  openFindingStore,
} from '../src/index.js'
import { DATABASE_URL, fileStores, postgresStores, runAdmitter } from './support/finding-stores.js'
import { finding } from './support/findings.js'

const T0 = Date.parse('2026-12-01T08:00:00.000Z')
const HOUR = 3_600_000
const PO = 'Practitioner/privacy-1'

const fileKind = fileStores()
const pgKind = postgresStores(4)

afterAll(async () => {
  await pgKind.end()
})

for (const kind of [fileKind, pgKind]) {
  describe.skipIf(!kind.available)(`the ${kind.name} finding store`, () => {
    let clock: ManualClock
    let store: FindingStore
    const open = async (): Promise<FindingStore> => {
      clock = manualClock(T0)
      store = await kind.open(clock)
      return store
    }
    afterEach(async () => {
      await store?.close()
      await kind.cleanup()
    })

    it('admit returns only findings never seen before, in input order; a re-run is quiet', async () => {
      await open()
      const [a, b, c] = [finding(1), finding(2), finding(3)]
      expect((await store.admit([b, a, b])).map((f) => f.id)).toEqual([b.id, a.id])
      clock.advance(HOUR)
      expect((await store.admit([a, b, c])).map((f) => f.id)).toEqual([c.id])
      expect(await store.admit([a, b, c])).toEqual([])
      const list = await store.list()
      expect(list.map((s) => [s.id, s.state])).toEqual([
        ...[b.id, a.id].sort().map((id) => [id, 'new']),
        [c.id, 'new'],
      ])
      expect(await store.get(a.id)).toEqual({
        id: a.id,
        detector: 'bulk-access',
        severity: 'high',
        who: 'Practitioner/7',
        state: 'new',
        firstSeen: '2026-12-01T08:00:00.000Z',
        at: '2026-12-01T08:00:00.000Z',
      })
      expect(await store.get(finding(99).id)).toBeUndefined()
    })

    it('acknowledges with a disposition by a reviewer; an acknowledged finding never alerts again', async () => {
      await open()
      const a = finding(1)
      await store.admit([a])
      clock.advance(1000)
      const s = await store.acknowledge(a.id, { disposition: 'false-positive', by: PO })
      expect(s).toMatchObject({ state: 'acknowledged', disposition: 'false-positive', by: PO })
      expect(s.at).toBe('2026-12-01T08:00:01.000Z')
      expect(s.firstSeen).toBe('2026-12-01T08:00:00.000Z')
      expect(await store.get(a.id)).toEqual(s)
      expect(isOpen(s, clock.now())).toBe(false)
      clock.advance(100 * HOUR)
      expect(await store.admit([a])).toEqual([])
      const again = await store.acknowledge(a.id, { disposition: 'inappropriate', by: 'Practitioner/po-2' })
      expect(again).toMatchObject({ disposition: 'inappropriate', by: 'Practitioner/po-2' })
    })

    it('refuses a review by the finding’s own subject, with a typed code, and changes nothing', async () => {
      await open()
      const a = finding(1, 'Practitioner/7')
      await store.admit([a])
      const self = store.acknowledge(a.id, { disposition: 'appropriate', by: 'Practitioner/7' })
      await expect(self).rejects.toBeInstanceOf(MonitorSelfReviewError)
      await expect(self).rejects.toMatchObject({ code: 'ERR_MONITOR_SELF_REVIEW' })
      const until = T0 + HOUR
      await expect(store.suppress(a.id, { until, by: 'Practitioner/7' })).rejects.toMatchObject({
        code: 'ERR_MONITOR_SELF_REVIEW',
      })
      expect((await store.get(a.id))?.state).toBe('new')
    })

    it('refuses an unknown id and bad arguments', async () => {
      await open()
      const unknown = store.acknowledge(finding(5).id, { disposition: 'appropriate', by: PO })
      await expect(unknown).rejects.toBeInstanceOf(MonitorFindingUnknownError)
      await expect(unknown).rejects.toMatchObject({ code: 'ERR_MONITOR_FINDING_UNKNOWN' })
      await store.admit([finding(1)])
      const id = finding(1).id
      await expect(store.acknowledge(id, { disposition: 'fine' as 'appropriate', by: PO })).rejects.toThrow(
        TypeError,
      )
      await expect(store.acknowledge(id, { disposition: 'appropriate', by: '' })).rejects.toThrow(TypeError)
      await expect(store.acknowledge('nope', { disposition: 'appropriate', by: PO })).rejects.toThrow(
        TypeError,
      )
      await expect(store.suppress(id, { until: T0, by: PO })).rejects.toThrow(RangeError)
      await expect(store.admit([{ ...finding(2), id: 'x' }])).rejects.toThrow(TypeError)
    })

    it('a suppressed finding stays quiet until its time passes, then alerts again as new', async () => {
      await open()
      const a = finding(1)
      await store.admit([a])
      const s = await store.suppress(a.id, { until: T0 + 2 * HOUR, by: PO })
      expect(s).toMatchObject({ state: 'suppressed', until: '2026-12-01T10:00:00.000Z', by: PO })
      expect(isOpen(s, clock.now())).toBe(false)
      clock.advance(2 * HOUR - 1)
      expect(await store.admit([a])).toEqual([])
      clock.advance(1)
      expect(isOpen((await store.get(a.id))!, clock.now())).toBe(true)
      expect((await store.admit([a])).map((f) => f.id)).toEqual([a.id])
      const back = await store.get(a.id)
      expect(back).toMatchObject({ state: 'new', firstSeen: '2026-12-01T08:00:00.000Z' })
      expect(back?.until).toBeUndefined()
      expect(await store.admit([a])).toEqual([])
    })

    it('stores only ids, codes, reviewer ids and times (no patients, seqs or counts)', async () => {
      await open()
      const a = { ...finding(1), patients: ['Patient/secret-name'], seqs: [424242], count: 77 }
      await store.admit([a])
      await store.acknowledge(a.id, { disposition: 'appropriate', by: PO })
      const dump = JSON.stringify(await store.list())
      expect(dump).not.toContain('Patient/secret-name')
      expect(dump).not.toContain('424242')
      const raw =
        kind.name === 'file'
          ? readFileSync(join(fileKind.dirs[0]!, 'findings.jsonl'), 'utf8')
          : JSON.stringify(
              (await pgKind.query(`SELECT * FROM "${pgKind.schemas[0]}".finding_transition`)).rows,
            )
      expect(raw).not.toContain('secret-name')
      expect(raw).not.toContain('424242')
      expect(raw).toContain(a.id)
    })

    it('two processes admitting the same findings at once (behind a barrier): each id is new exactly once', async () => {
      await open()
      const n = 150
      const where =
        kind.name === 'file' ? ['file', fileKind.dirs[0]!] : ['pg', DATABASE_URL, pgKind.schemas[0]!]
      const barrier = mkdtempSync(join(tmpdir(), 'sg-barrier-'))
      const args = [barrier, ...where, String(n)]
      const [x, y] = await Promise.all([runAdmitter(args), runAdmitter(args)]).finally(() =>
        rmSync(barrier, { recursive: true, force: true }),
      )
      expect(x.filter((id) => y.includes(id))).toEqual([])
      expect(new Set([...x, ...y]).size).toBe(n)
      expect(x.length + y.length).toBe(n)
      expect((await store.list()).length).toBe(n)
    }, 25_000)
  })
}

describe('the file store on disk', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sg-findings-disk-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('replays after reopening; a torn last line is ignored, reported, and cut off by the next write', async () => {
    const d = join(dir, 'torn')
    const clock = manualClock(T0)
    const store = await openFindingStore({ dir: d, clock })
    await store.admit([finding(1), finding(2)])
    await store.acknowledge(finding(1).id, { disposition: 'appropriate', by: PO })
    const path = join(d, 'findings.jsonl')
    const complete = statSync(path).size
    appendFileSync(path, '{"op":"ack","id":"fnd_') // a crash in the middle of an append
    const again = await openFindingStore({ dir: d, clock })
    const list = await again.list()
    expect(list.map((s) => s.state).sort()).toEqual(['acknowledged', 'new'])
    expect(again.tornTail()).toEqual({ offset: complete, bytes: 22 })
    await again.suppress(finding(2).id, { until: T0 + HOUR, by: PO })
    expect(again.tornTail()).toBeUndefined()
    const lines = readFileSync(path, 'utf8').split('\n')
    expect(lines.at(-1)).toBe('')
    expect(lines.slice(0, -1).every((l) => JSON.parse(l).op !== undefined)).toBe(true)
    const third = await openFindingStore({ dir: d, clock })
    expect((await third.get(finding(2).id))?.state).toBe('suppressed')
    expect((await third.get(finding(1).id))?.disposition).toBe('appropriate')
    expect(third.tornTail()).toBeUndefined()
  })

  it('a damaged complete line is an integrity error naming the line, never skipped', async () => {
    const d = join(dir, 'damaged')
    const store = await openFindingStore({ dir: d })
    await store.admit([finding(1)])
    const path = join(d, 'findings.jsonl')
    writeFileSync(path, `${readFileSync(path, 'utf8')}{"op":"ack","id":"fnd_x"}\n`)
    const err = await store.list().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MonitorFindingStoreError)
    expect(err).toMatchObject({ code: 'ERR_MONITOR_FINDING_STORE', category: 'integrity' })
    expect((err as Error).message).toContain('line 2')
    writeFileSync(path, `not json\n`)
    await expect(store.admit([finding(2)])).rejects.toMatchObject({ code: 'ERR_MONITOR_FINDING_STORE' })
  })

  it('a store that cannot be read is an I/O error (ERR_IO), not damage', async () => {
    const d = join(dir, 'unreadable')
    mkdirSync(join(d, 'findings.jsonl'), { recursive: true }) // a directory where the file belongs
    const store = await openFindingStore({ dir: d })
    await expect(store.list()).rejects.toMatchObject({ code: 'ERR_IO', category: 'io' })
    await expect(store.admit([finding(1)])).rejects.toMatchObject({ code: 'ERR_IO' })
  })
})
