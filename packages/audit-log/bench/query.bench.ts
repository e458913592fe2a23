/**
 * Queries on a 1,000,000-record file log (issue 16 §1): the records of one patient (20 of them,
 * spread over the whole log) through the file store's index, against `scan: true` (every record
 * read and parsed) in alternating rounds of the same run.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Scenario } from '../../../scripts/bench/types.ts'
import { type FileStore, openAuditLog, openFileStore, queryLog } from '../src/index.js'
import { event } from './events.ts'

const RECORDS = 1_000_000
const PATIENTS = 50_000 // 20 records each

let dir = ''
let round = 0

/** Writes the log once (durability none: only the reads are timed). */
async function setup(): Promise<void> {
  if (dir !== '') return
  dir = mkdtempSync(join(tmpdir(), 'sg-audit-query-'))
  const d = dir
  process.once('exit', () => rmSync(d, { recursive: true, force: true }))
  const log = await openAuditLog({ store: await openFileStore({ dir, stream: 'bench', durability: 'none' }) })
  const t = performance.now()
  const chunk: Promise<unknown>[] = []
  for (let i = 0; i < RECORDS; i++) {
    chunk.push(log.append(event(i, PATIENTS)))
    if (chunk.length === 4096) await Promise.all(chunk.splice(0))
  }
  await Promise.all(chunk)
  await log.close()
  console.error(`  (built ${RECORDS} records in ${((performance.now() - t) / 1000).toFixed(1)} s)`)
}

const readOnly = (): Promise<FileStore> => openFileStore({ dir, readOnly: true })

/** One query on `store`: its time in ms and the rows. */
async function timeQuery(store: FileStore, patient: string, scan: boolean): Promise<[number, number]> {
  const t = performance.now()
  let n = 0
  for await (const _ of await queryLog(store, { patient }, { scan })) n++
  return [performance.now() - t, n]
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** A fresh read-only store per query (as the CLI runs), and a long-lived one over 20 patients. */
async function viaIndex(): Promise<{ value: number; extra: Record<string, string> }> {
  const patient = `Patient/${(round++ * 7919) % PATIENTS}`
  const fresh = await readOnly()
  const [ms, rows] = await timeQuery(fresh, patient, false)
  await fresh.close()
  const warm = await readOnly()
  await timeQuery(warm, 'Patient/1', false)
  const times: number[] = []
  for (let k = 0; k < 20; k++)
    times.push((await timeQuery(warm, `Patient/${(k * 104_729) % PATIENTS}`, false))[0])
  await warm.close()
  return {
    value: ms,
    extra: {
      rows: String(rows),
      'long-lived store, median of 20 patients': `${median(times).toFixed(1)} ms`,
    },
  }
}

async function viaScan(): Promise<{ value: number }> {
  const store = await readOnly()
  const [ms] = await timeQuery(store, `Patient/${(round * 7919) % PATIENTS}`, true)
  await store.close()
  return { value: ms }
}

const scenarios: Scenario[] = [
  {
    name: `query one patient (${RECORDS / PATIENTS} records) of a ${RECORDS / 1e6}M-record file log`,
    unit: 'ms',
    lowerIsBetter: true,
    ours: {
      name: '@safeguards/audit-log queryLog, file index (fresh read-only store, as the CLI)',
      measure: viaIndex,
    },
    anchor: { name: 'queryLog with scan: true (every record read and parsed)', measure: viaScan },
    rounds: 3,
    target: { value: 200, text: '≤ 200 ms' },
    setup,
  },
]

export default scenarios
