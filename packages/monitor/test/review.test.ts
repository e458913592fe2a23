import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type AuditEvent, openAuditLog, openFileStore, type StoredRecord } from '@safeguards/audit-log'
import { manualClock } from '@safeguards/core'
import { afterEach, describe, expect, it } from 'vitest'
import { createMonitor, formatResult, reviewLog } from '../src/index.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const failedSignIn = (who: string, address: string): AuditEvent => ({
  type: '110114',
  subtype: ['110122'],
  action: 'E',
  outcome: 4,
  agents: [{ who, requestor: true, network: { address, type: '2' } }],
  source: { observer: 'ehr-api' },
})
const read = (who: string, patient: string): AuditEvent => ({
  type: 'rest',
  subtype: ['read'],
  action: 'R',
  outcome: 0,
  patient,
  agents: [{ who, requestor: true, role: ['doctor'] }],
  source: { observer: 'ehr-api' },
})

async function clinicLog() {
  const dir = mkdtempSync(join(tmpdir(), 'sg-monitor-'))
  dirs.push(dir)
  const clock = manualClock(Date.parse('2026-03-02T12:00:00.000Z'))
  const store = await openFileStore({ dir, stream: 'ehr-test', durability: 'none' })
  const log = await openAuditLog({ store, clock, closeStore: false })
  for (let i = 0; i < 12; i++) {
    await log.append(failedSignIn(`acct-${i}`, '203.0.113.9')) // a spray: 12 accounts, one address
    await log.append(read('Practitioner/1', `Patient/${i}`))
    clock.advance(20_000)
  }
  for (let i = 0; i < 5; i++) {
    await log.append(failedSignIn('Practitioner/2', '10.0.0.2')) // a burst
    clock.advance(30_000)
  }
  await log.close()
  return store
}

describe('reviewLog on a file store', () => {
  it('reviews the log, and gives what a monitor fed the same records gives', async () => {
    const store = await clinicLog()
    const result = await reviewLog(store)
    expect(result.stream).toBe('ehr-test')
    expect(result.records).toBe(29)
    expect(result.findings.map((f) => [f.detector, f.address ?? f.who, f.count])).toEqual([
      ['password-spray', '203.0.113.9', 12],
      ['failed-sign-in-burst', 'Practitioner/2', 5],
    ])
    const m = createMonitor({ stream: store.stream })
    for await (const r of store.read(0)) await m.feed([r])
    m.flush()
    expect(formatResult(m.result())).toBe(formatResult(result))
    expect(formatResult(await reviewLog(store))).toBe(formatResult(result))
  })

  it('reviews a range from a seq, and any async iterable of records given its stream', async () => {
    const store = await clinicLog()
    const tail = await reviewLog(store, { from: 24 })
    expect(tail.firstSeq).toBe(24)
    expect(tail.findings.map((f) => f.detector)).toEqual(['failed-sign-in-burst'])
    async function* records(): AsyncIterable<StoredRecord> {
      yield* store.read(0)
    }
    expect(formatResult(await reviewLog(records(), { stream: 'ehr-test' }))).toBe(
      formatResult(await reviewLog(store)),
    )
    await expect(reviewLog(records())).rejects.toBeInstanceOf(TypeError)
  })
})
