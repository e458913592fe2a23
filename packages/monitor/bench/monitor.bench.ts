/**
 * Review throughput (issue 16 §5): every detector on, a care-relationship and a staff resolver
 * (synchronous, as from an in-memory snapshot), over a file log of 1,000,000 events of clinic
 * traffic spanning 8 days, on one thread; against the limit, a bare loop that reads the same
 * segment files and `JSON.parse`s each line, in the same run. Ours reports the heap after each
 * quarter of the log (flat: state is bounded by the windows; run with `NODE_OPTIONS=--expose-gc`
 * for heaps after a full GC) and the findings count (findings are output, not kept).
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type AuditEvent, type AuditStore, openAuditLog, openFileStore } from '@safeguards/audit-log'
import { manualClock } from '@safeguards/core'
import type { Scenario } from '../../../scripts/bench/types.ts'
import { prng } from '../../../scripts/test-support/prng.ts'
import { createMonitor, followLog } from '../src/index.js'

const RECORDS = Number(process.env.MONITOR_BENCH_RECORDS ?? 1_000_000)
const USERS = 400
const PATIENTS = 40_000
const TEAMS = 20
let dir = ''

/** Event `i` of the mix: 4% sign-ins (a few failures), 90% chart reads (some denied, some BTG), 6% other. */
function event(r: () => number): AuditEvent {
  const u = Math.floor(r() * USERS)
  const agent = {
    who: `Practitioner/${u}`,
    requestor: true,
    role: ['doctor'],
    network: { address: `10.1.${u % 250}.${u % 7}`, type: '2' as const },
  }
  const x = r()
  const base = { source: { observer: 'ehr-api' }, agents: [agent] }
  if (x < 0.04)
    return { ...base, type: '110114', subtype: ['110122'], action: 'E', outcome: r() < 0.05 ? 4 : 0 }
  if (x < 0.94) {
    const team = u % TEAMS
    const mine = r() < 0.97 // most reads within the care team
    const p = mine ? team + TEAMS * Math.floor(r() * (PATIENTS / TEAMS)) : Math.floor(r() * PATIENTS)
    const btg = r() < 0.002
    return {
      ...base,
      agents: [btg ? { ...agent, purposeOfUse: ['BTG'] } : agent],
      type: 'rest',
      subtype: ['read'],
      action: 'R',
      outcome: r() < 0.01 ? 4 : 0,
      patient: `Patient/${p}`,
    }
  }
  return { ...base, type: 'rest', subtype: ['search'], action: 'E', outcome: 0 }
}

async function setup(): Promise<void> {
  if (dir !== '' && existsSync(dir)) return
  dir = mkdtempSync(join(tmpdir(), 'sg-monitor-bench-'))
  const d = dir
  process.once('exit', () => rmSync(d, { recursive: true, force: true }))
  const clock = manualClock(Date.parse('2026-03-02T06:00:00.000Z'))
  const log = await openAuditLog({
    store: await openFileStore({ dir, stream: 'bench', durability: 'none' }),
    clock,
  })
  const r = prng(16)
  const chunk: Promise<unknown>[] = []
  for (let i = 0; i < RECORDS; i++) {
    chunk.push(log.append(event(r)))
    if (chunk.length === 4096) {
      await Promise.all(chunk.splice(0))
      clock.advance(4096 * 700) // about 1.4 events a second: 1M events span 8 days, several windows
    }
  }
  await Promise.all(chunk)
  await log.close()
}

const careOf = (who: string, patient: string): boolean =>
  Number(who.slice(13)) % TEAMS === Number(patient.slice(8)) % TEAMS
/** Heap in use, after a full GC when the run allows it (`NODE_OPTIONS=--expose-gc`). */
const heapMiB = (): string => {
  ;(globalThis as { gc?: () => void }).gc?.()
  return (process.memoryUsage().heapUsed / 2 ** 20).toFixed(1)
}

async function ours(): Promise<{ value: number; extra?: Record<string, string> }> {
  const store = await openFileStore({ dir, readOnly: true })
  const heap: string[] = [heapMiB()]
  const marks = new Set([0.25, 0.5, 0.75, 1].map((x) => Math.floor(RECORDS * x)))
  let findings = 0
  const m = createMonitor({
    stream: store.stream,
    keepFindings: false, // findings are output, not state: counted here, not kept
    onFinding: () => {
      findings++
    },
    resolvers: {
      careRelationship: careOf,
      staffPatient: (p) => (p === 'Patient/7' ? 'Practitioner/7' : undefined),
    },
  })
  const t = performance.now()
  let n = 0
  for await (const batch of store.readBatches?.(0) ?? []) {
    await m.feed(batch)
    n += batch.length
    for (const k of marks)
      if (n >= k) {
        heap.push(heapMiB())
        marks.delete(k)
      }
  }
  m.flush()
  const s = (performance.now() - t) / 1000
  heap.push(heapMiB())
  await store.close()
  const r = m.result()
  if (r.records !== RECORDS || r.problems.length > 0) throw new Error('the bench log did not review cleanly')
  return {
    value: RECORDS / s,
    extra: {
      'heap MiB (start, 25%, 50%, 75%, 100%, after flush)': heap.join(' → '),
      findings: String(findings),
      'state keys': String(m.stateSize()),
    },
  }
}

/** The limit: read the segment files and JSON.parse every line, nothing else. */
async function limit(): Promise<{ value: number }> {
  const segs = join(dir, 'segments')
  const decoder = new TextDecoder()
  const t = performance.now()
  let n = 0
  for (const f of readdirSync(segs).sort()) {
    const text = decoder.decode(readFileSync(join(segs, f)))
    let i = 0
    for (;;) {
      const j = text.indexOf('\n', i)
      if (j < 0) break
      if (JSON.parse(text.slice(i, j)) !== null) n++
      i = j + 1
    }
  }
  if (n !== RECORDS) throw new Error(`the limit read ${n} records`)
  return { value: RECORDS / ((performance.now() - t) / 1000) }
}

// ---- follow: lag behind a writer at 5,000 appends/s -----------------------------------------------
const FOLLOW_RATE = 5000
const FOLLOW_SECONDS = Number(process.env.MONITOR_FOLLOW_SECONDS ?? 8)
const pct = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)] ?? 0

/**
 * Runs the writer in a child process for FOLLOW_SECONDS while `follow` follows the same log in
 * this process; the lag of a record is when the follower had reviewed it minus its `occurred`
 * (set when the writer handed it to `append`). Returns the p99 lag in ms.
 */
async function followLag(
  follow: (store: AuditStore, signal: AbortSignal, progress: (next: number) => void) => Promise<unknown>,
): Promise<{ value: number; extra?: Record<string, string> }> {
  const logDir = mkdtempSync(join(tmpdir(), 'sg-monitor-follow-'))
  try {
    const writer = fileURLToPath(new URL('./follow-writer.ts', import.meta.url))
    const child = spawn(
      process.execPath,
      [
        '--conditions=@safeguards/source',
        '--import',
        'tsx',
        writer,
        logDir,
        String(FOLLOW_RATE),
        String(FOLLOW_SECONDS),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let out = ''
    child.stdout.on('data', (d: Uint8Array) => {
      out += new TextDecoder().decode(d)
    })
    const done = new Promise<void>((res) => child.on('exit', () => res()))
    while (!existsSync(join(logDir, 'stream.json'))) await new Promise((r) => setTimeout(r, 20))
    const store = await openFileStore({ dir: logDir, readOnly: true })
    const stop = new AbortController()
    const reviewedAt: [number, number][] = [] // (next seq, wall clock)
    const following = follow(store, stop.signal, (next) => reviewedAt.push([next, Date.now()]))
    await done
    const { records, rate } = JSON.parse(out) as { records: number; rate: number }
    while ((reviewedAt[reviewedAt.length - 1]?.[0] ?? 0) < records)
      await new Promise((r) => setTimeout(r, 20))
    stop.abort()
    await following
    const lags: number[] = []
    let k = 0
    for await (const r of store.read(0)) {
      while ((reviewedAt[k]?.[0] ?? Number.POSITIVE_INFINITY) <= r.seq) k++
      const occurred = Date.parse(
        (JSON.parse(new TextDecoder().decode(r.bytes)) as { event: { occurred: string } }).event.occurred,
      )
      lags.push((reviewedAt[k]?.[1] ?? Date.now()) - occurred)
    }
    await store.close()
    return {
      value: pct(lags, 0.99),
      extra: {
        'p50 lag ms': String(pct(lags, 0.5)),
        'max lag ms': String(pct(lags, 1)),
        'append rate': `${rate.toFixed(0)}/s over ${records} records`,
      },
    }
  } finally {
    rmSync(logDir, { recursive: true, force: true })
  }
}

/** The limit: a bare follower, polling the head and JSON.parsing new records, nothing else. */
async function bareFollow(
  store: AuditStore,
  signal: AbortSignal,
  progress: (next: number) => void,
): Promise<void> {
  let next = 0
  while (!signal.aborted) {
    const head = await store.head()
    if (head.size <= next) {
      await new Promise((r) => setTimeout(r, 200))
      continue
    }
    for await (const batch of store.readBatches?.(next, head.size) ?? []) {
      for (const r of batch) JSON.parse(new TextDecoder().decode(r.bytes))
      next = (batch[batch.length - 1]?.seq ?? next - 1) + 1
      progress(next)
    }
  }
}

const scenarios: Scenario[] = [
  {
    name: `review a ${RECORDS / 1e6}M-event file log, every detector, one thread`,
    unit: 'events/s',
    setup,
    ours: { name: '@safeguards/monitor createMonitor + store.readBatches', measure: ours },
    limit: { name: 'read the segments + JSON.parse each line', measure: limit },
    rounds: 5,
    target: { ratio: 0.3, value: 100_000, text: '≥ 100,000 events/s and ≥ 0.3× limit' },
  },
  {
    name: `follow a file log written at ${FOLLOW_RATE} appends/s for ${FOLLOW_SECONDS} s, p99 lag`,
    unit: 'ms',
    lowerIsBetter: true,
    ours: {
      name: '@safeguards/monitor followLog (every detector, 200 ms polls)',
      measure: () =>
        followLag((store, signal, onProgress) =>
          followLog(store, { signal, onProgress, keepFindings: false }),
        ),
    },
    limit: {
      name: 'a bare follower: poll the head, read and JSON.parse new records',
      measure: () => followLag(bareFollow),
    },
    target: { value: 1000, text: 'p99 lag ≤ 1,000 ms' },
  },
]
export default scenarios
