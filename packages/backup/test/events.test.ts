import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { criticalSink, isSafeguardsError, manualClock, type SafeguardEvent } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import { createBag, verifyBag } from '../src/index.js'
import { signedBag, T0, tempDir, writeTree } from './helpers.js'

const NOW = T0 + 3600_000

function recorder(): { events: SafeguardEvent[]; sink: (e: SafeguardEvent) => void } {
  const events: SafeguardEvent[] = []
  return { events, sink: (e) => void events.push(e) }
}

function bagIdOf(bag: string): string {
  return /^External-Identifier: (\S+)$/m.exec(readFileSync(join(bag, 'bag-info.txt'), 'utf8'))?.[1] as string
}

describe('verifyBag events', () => {
  it('a clean bag: exactly one backup.verified with counts and the bag id', async () => {
    const { bag, publicKeys } = await signedBag()
    const { events, sink } = recorder()
    const { report } = await verifyBag(bag, { publicKeys, clock: manualClock(NOW), events: sink })
    expect(report.exitCode).toBe(0)
    const bytes = report.bag.payloadBytes
    expect(events).toEqual([
      {
        type: 'backup.verified',
        at: NOW,
        source: '@safeguards/backup',
        outcome: 'success',
        bagId: bagIdOf(bag),
        counts: { files: 3, bytes, filesVerified: 3, bytesVerified: bytes },
      },
    ])
  })

  it('a damaged bag: exactly one backup.failed with the first error finding and the error count', async () => {
    const { bag, publicKeys } = await signedBag()
    writeFileSync(join(bag, 'data/notes/readme.txt'), 'tampered\n')
    writeFileSync(join(bag, 'data/extra.txt'), 'x')
    const { events, sink } = recorder()
    const { report } = await verifyBag(bag, { publicKeys, clock: manualClock(NOW), events: sink })
    const errors = report.findings.filter((f) => f.severity === 'error')
    expect(errors.map((f) => f.code)).toEqual(['E_EXTRA', 'E_DIGEST_MISMATCH', 'E_DIGEST_MISMATCH'])
    expect(events).toEqual([
      {
        type: 'backup.failed',
        at: NOW,
        source: '@safeguards/backup',
        outcome: 'failure',
        bagId: bagIdOf(bag),
        code: 'E_EXTRA',
        counts: { findings: 3 },
      },
    ])
  })

  it('not a bag: backup.failed without a bag id', async () => {
    const { events, sink } = recorder()
    await verifyBag(join(tempDir(), 'absent'), { clock: manualClock(NOW), events: [sink] })
    expect(events).toEqual([
      {
        type: 'backup.failed',
        at: NOW,
        source: '@safeguards/backup',
        outcome: 'failure',
        code: 'E_NOT_A_BAG',
        counts: { findings: 1 },
      },
    ])
  })

  it('a failing critical sink fails the verification with ERR_EVENT_SINK; an isolated one does not', async () => {
    const { bag, publicKeys } = await signedBag()
    const boom = new Error('siem down')
    const critical = criticalSink(async () => {
      throw boom
    })
    const error = await verifyBag(bag, { publicKeys, events: critical }).catch((e: unknown) => e)
    expect(isSafeguardsError(error, 'ERR_EVENT_SINK')).toBe(true)
    expect((error as Error).cause).toBe(boom)

    const seen: unknown[] = []
    const { report } = await verifyBag(bag, {
      publicKeys,
      events: () => {
        throw boom
      },
      onSinkError: (e) => void seen.push(e),
    })
    expect(report.exitCode).toBe(0)
    expect(seen).toEqual([boom])
  })

  it('awaits a critical sink before returning', async () => {
    const { bag, publicKeys } = await signedBag()
    let delivered = false
    const critical = criticalSink(async () => {
      await new Promise((r) => setTimeout(r, 20))
      delivered = true
    })
    await verifyBag(bag, { publicKeys, events: critical })
    expect(delivered).toBe(true)
  })
})

describe('createBag events', () => {
  it('a failed creation emits one backup.failed with the error code, then throws it', async () => {
    const root = tempDir()
    const dest = join(root, 'bag')
    mkdirSync(dest)
    writeFileSync(join(dest, 'occupied'), 'x')
    writeTree(join(root, 'src'), { 'a.txt': 'a' })
    const { events, sink } = recorder()
    const error = await createBag(join(root, 'src'), dest, { clock: manualClock(T0), events: sink }).catch(
      (e: unknown) => e,
    )
    expect(isSafeguardsError(error, 'ERR_BACKUP_DESTINATION')).toBe(true)
    expect(events).toEqual([
      {
        type: 'backup.failed',
        at: T0,
        source: '@safeguards/backup',
        outcome: 'failure',
        code: 'ERR_BACKUP_DESTINATION',
      },
    ])
  })

  it('a successful creation emits nothing (there is no creation event type)', async () => {
    const { events, sink } = recorder()
    await signedBag(undefined, { events: sink })
    expect(events).toEqual([])
  })
})
