import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type AuditEvent, openAuditLog, openFileStore } from '@safeguards/audit-log'
import { manualClock } from '@safeguards/core'
import { afterEach, describe, expect, it } from 'vitest'
import { prng } from '../../../scripts/test-support/prng.js'
import { compileRules, type Finding, followLog, formatResult, reviewLog } from '../src/index.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** A seeded mix of sign-ins (some failing, from a few addresses) and reads. */
function event(r: () => number): AuditEvent {
  const u = Math.floor(r() * 6)
  const agents = [
    {
      who: `Practitioner/${u}`,
      requestor: true,
      network: { address: `10.0.0.${u % 3}`, type: '2' as const },
    },
  ]
  if (r() < 0.4)
    return {
      type: '110114',
      subtype: ['110122'],
      action: 'E',
      outcome: r() < 0.6 ? 4 : 0,
      agents,
      source: { observer: 'ehr' },
    }
  return {
    type: 'rest',
    subtype: ['read'],
    action: 'R',
    outcome: r() < 0.3 ? 8 : 0,
    patient: `Patient/${Math.floor(r() * 30)}`,
    agents,
    source: { observer: 'ehr' },
  }
}

const LOW = compileRules({
  detectors: {
    'failed-sign-in-burst': { threshold: 3 },
    'denied-burst': { threshold: 3 },
    'bulk-access': { threshold: 8 },
  },
})

describe('followLog', () => {
  it('following a log while it is written gives what a batch review of the same records gives', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-monitor-follow-'))
    dirs.push(dir)
    const clock = manualClock(Date.parse('2026-03-02T12:00:00.000Z'))
    const log = await openAuditLog({
      store: await openFileStore({ dir, stream: 'follow', durability: 'none' }),
      clock,
    })
    const reader = await openFileStore({ dir, readOnly: true })
    const stop = new AbortController()
    const opened: Finding[] = []
    const closed: Finding[] = []
    let seen = 0
    const following = followLog(reader, {
      rules: LOW,
      signal: stop.signal,
      pollMs: 5,
      onOpen: (f) => opened.push(f),
      onFinding: (f) => closed.push(f),
      onProgress: (next) => {
        seen = next
      },
    })
    const r = prng(5)
    const total = 3000
    for (let i = 0; i < total; i += 100) {
      await Promise.all(Array.from({ length: 100 }, () => log.append(event(r))))
      clock.advance(60_000)
      await new Promise((res) => setTimeout(res, 2)) // let the follower poll mid-stream
    }
    await log.close()
    while (seen < total) await new Promise((res) => setTimeout(res, 5))
    stop.abort()
    const followed = await following
    const batch = await reviewLog(reader, { rules: LOW })
    expect(followed.records).toBe(total)
    expect(batch.findings.length).toBeGreaterThan(10)
    expect(formatResult(followed)).toBe(formatResult(batch))
    // Every episode was announced when it opened, with the id it closed under.
    expect(opened.map((f) => f.id).sort()).toEqual(batch.findings.map((f) => f.id).sort())
    expect(closed.length).toBe(batch.findings.length)
    await reader.close()
  })

  it('stops at once when aborted, and refuses a non-positive poll interval', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-monitor-follow-'))
    dirs.push(dir)
    const store = await openFileStore({ dir, stream: 'idle', durability: 'none' })
    const stop = new AbortController()
    const following = followLog(store, { signal: stop.signal, pollMs: 60_000 })
    setTimeout(() => stop.abort(), 10)
    expect((await following).records).toBe(0)
    await expect(followLog(store, { signal: stop.signal, pollMs: 0 })).rejects.toBeInstanceOf(RangeError)
    await store.close()
  })
})
