import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  AuditLockTimeoutError,
  CheckpointError,
  directoryAnchor,
  openAuditLog,
  openFileStore,
} from '../src/index.js'
import { acquireDirLock } from '../src/internal/file-lock.js'
import { event, tempDir } from './helpers.js'

describe('directoryAnchor', () => {
  it('is write-once per index: the same checkpoint again is fine, a different one is refused', async () => {
    const anchor = directoryAnchor(tempDir())
    const cp = { index: 0, size: 3, jws: '{"payload":"a","protected":"b","signature":"c"}' }
    await anchor.put('s', cp)
    await anchor.put('s', cp)
    await expect(anchor.put('s', { ...cp, size: 4 })).rejects.toThrow(CheckpointError)
    expect(await anchor.list('s')).toEqual([cp])
    expect(await anchor.list('other')).toEqual([])
    await expect(anchor.put('../escape', cp)).rejects.toThrow(RangeError)
    expect(() => directoryAnchor('')).toThrow(TypeError)
  })

  it('reports a malformed anchored file', async () => {
    const dir = tempDir()
    mkdirSync(join(dir, 's'))
    writeFileSync(join(dir, 's', `${'0'.repeat(20)}.json`), '{"index":"x"}')
    await expect(directoryAnchor(dir).list('s')).rejects.toThrow(CheckpointError)
  })
})

describe('inter-process lock', () => {
  it('breaks the lock of a dead process', async () => {
    const base = tempDir()
    const dir = join(base, 'log')
    const log = await openAuditLog({
      store: await openFileStore({ dir, stream: 's' }),
      checkpointEvery: { ms: 0 },
    })
    await log.append(event(0))
    await log.close()
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    })
    const { hostname } = await import('node:os')
    // A lock left by a writer of the previous release (its format) that was killed.
    writeFileSync(join(dir, 'lock'), `${dead.stdout}\n${hostname()}\nstale-nonce`)
    const again = await openAuditLog({
      store: await openFileStore({ dir, stream: 's' }),
      checkpointEvery: { ms: 0 },
    })
    expect((await again.append(event(1))).seq).toBe(1)
    await again.close()
  })

  it('a writer whose lock was taken away writes nothing (LockLostError)', async () => {
    const dir = join(tempDir(), 'log')
    const log = await openAuditLog({
      store: await openFileStore({ dir, stream: 's' }),
      checkpointEvery: { ms: 0 },
    })
    await log.append(event(0))
    // The writer keeps its lock between batches; replace it behind its back.
    writeFileSync(join(dir, 'lock'), `${process.pid}\nsomewhere-else\nother-nonce`)
    await expect(log.append(event(1))).rejects.toMatchObject({ code: 'ERR_LOCK_LOST' })
    await log.close().catch(() => undefined)
    const store = await openFileStore({ dir, stream: 's', readOnly: true })
    expect((await store.head()).size).toBe(1)
  })

  it('waits for a live holder and times out with a typed error', async () => {
    const dir = tempDir()
    const held = await acquireDirLock(dir, 1000)
    await expect(acquireDirLock(dir, 30)).rejects.toThrow(AuditLockTimeoutError)
    expect(held.contended()).toBe(true)
    held.release()
    const again = await acquireDirLock(dir, 1000)
    again.release()
  })
})
