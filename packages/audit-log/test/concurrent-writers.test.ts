/**
 * Several writers on one log and one anchor, and a verifier running while they write: checkpoints
 * from different writers form one chain, and a verification of the live log sees a consistent cut
 * (no false findings). Regressions of a false `ROLLBACK` ("anchored checkpoint N is missing from the
 * log's checkpoints") seen with two clinic instances on one PostgreSQL stream, of anchor files read
 * half written, of checkpoints dated before their predecessor when writers' clocks differ, and of
 * timer checkpoints piling up behind a slow one.
 */
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { manualClock } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import {
  type AnchorSink,
  type AuditLog,
  type CheckpointSigner,
  createCheckpointSigner,
  directoryAnchor,
  openAuditLog,
  openFileStore,
  readCheckpointUnverified,
  type Timers,
  verifyLog,
} from '../src/index.js'
import { checkpointKeys, event, plainStore, tempDir } from './helpers.js'

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url))
const anchorWriter = fileURLToPath(new URL('./fixtures/anchor-writer.ts', import.meta.url))

/** A log with a signer and an anchor on a file store in `dir`. */
async function writer(
  dir: string,
  anchorDir: string,
  privateJwk: Parameters<typeof createCheckpointSigner>[0],
  extra: { clock?: ReturnType<typeof manualClock> } = {},
): Promise<AuditLog> {
  return openAuditLog({
    store: await openFileStore({ dir, stream: 's' }),
    signer: await createCheckpointSigner(privateJwk),
    anchor: directoryAnchor(anchorDir),
    checkpointEvery: { records: 1000, ms: 0 },
    ...extra,
  })
}

describe('a verifier running while another writer checkpoints', () => {
  it('sees a consistent cut when a checkpoint is stored and anchored between its reads', async () => {
    const dir = tempDir()
    const anchorDir = tempDir()
    const { key, keyring } = await checkpointKeys()
    const other = await writer(dir, anchorDir, key.privateJwk)
    for (let i = 0; i < 3; i++) await other.append(event(i))
    await other.checkpoint()

    // Right after the verifier reads the stored checkpoints, and right after it lists the anchor,
    // the other writer appends a record and writes (stores, then anchors) a checkpoint.
    let moves = 0
    const move = async (): Promise<void> => {
      moves++
      await other.append(event(100 + moves))
      await other.checkpoint()
    }
    const store = await openFileStore({ dir, readOnly: true })
    const racingStore = plainStore(store, {
      async readCheckpoints() {
        const cps = await store.readCheckpoints()
        await move()
        return cps
      },
    })
    const anchor = directoryAnchor(anchorDir)
    const racingAnchor: AnchorSink = {
      put: (o, c) => anchor.put(o, c),
      async list(origin) {
        const list = await anchor.list(origin)
        await move()
        return list
      },
    }
    const report = await verifyLog(racingStore, { keyring, anchor: racingAnchor })
    expect(moves).toBe(2)
    expect(report.findings.filter((f) => f.severity === 'error')).toEqual([])
    expect(report.ok).toBe(true)
    await other.close()
    const after = await verifyLog(await openFileStore({ dir, readOnly: true }), { keyring, anchor })
    expect(after).toMatchObject({ ok: true, findings: [], records: 5, anchoredThrough: 4 })
  })

  it('refuses an anchored checkpoint that the store really lacks (the check is still there)', async () => {
    const dir = tempDir()
    const anchorDir = tempDir()
    const { key, keyring } = await checkpointKeys()
    const log = await writer(dir, anchorDir, key.privateJwk)
    await log.append(event(0))
    await log.checkpoint()
    await log.append(event(1))
    await log.close()
    // The store loses its last checkpoint (index 1), which the anchor still has: a real rollback.
    const path = join(dir, 'checkpoints.jsonl')
    const lines = readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
    expect(lines.length).toBe(2)
    writeFileSync(path, `${lines[0]}\n`)
    const report = await verifyLog(await openFileStore({ dir, readOnly: true }), {
      keyring,
      anchor: directoryAnchor(anchorDir),
    })
    expect(report.ok).toBe(false)
    expect(report.findings.map((f) => f.code)).toContain('ROLLBACK')
  })
})

describe('checkpoints from writers with different clocks', () => {
  it('are never dated before the checkpoint they follow, and verify', async () => {
    const dir = tempDir()
    const anchorDir = tempDir()
    const { key, keyring } = await checkpointKeys()
    const ahead = manualClock(1_700_000_010_000)
    const behind = manualClock(1_700_000_000_000) // ten seconds slow
    const a = await writer(dir, anchorDir, key.privateJwk, { clock: ahead })
    const b = await writer(dir, anchorDir, key.privateJwk, { clock: behind })
    await a.append(event(0))
    await a.checkpoint()
    await b.append(event(1))
    await b.checkpoint()
    behind.advance(20_000) // now ahead of `a`
    await b.append(event(2))
    await b.checkpoint()
    await a.append(event(3))
    await a.close()
    await b.close()
    const cps = await (await openFileStore({ dir, readOnly: true })).readCheckpoints()
    const stamps = cps.map((c) => readCheckpointUnverified(c.jws).body.timestamp)
    expect(stamps).toEqual([...stamps].sort())
    expect(stamps[1]).toBe(stamps[0]) // b's clock was behind: dated as its predecessor
    expect(stamps[2]).toBe(new Date(1_700_000_020_000).toISOString()) // b's own clock once ahead
    const report = await verifyLog(await openFileStore({ dir, readOnly: true }), {
      keyring,
      anchor: directoryAnchor(anchorDir),
    })
    expect(report).toMatchObject({ ok: true, findings: [], records: 4, anchoredThrough: 3 })
  })
})

describe('timer checkpoints', () => {
  it('skip a tick while the previous timer checkpoint is still being written', async () => {
    const { signer: inner } = await checkpointKeys()
    let release: () => void = () => undefined
    let gate: Promise<void> | null = null
    let signed = 0
    const slow: CheckpointSigner = {
      kid: inner.kid,
      async sign(payload) {
        signed++
        if (gate !== null) await gate
        return inner.sign(payload)
      },
    }
    let tick: () => void = () => undefined
    const timers: Timers = {
      setInterval(cb) {
        tick = cb
        return 1
      },
      clearInterval() {},
    }
    const dir = tempDir()
    const log = await openAuditLog({
      store: await openFileStore({ dir, stream: 's' }),
      signer: slow,
      checkpointEvery: { records: 1000, ms: 1000 },
      timers,
    })
    await log.append(event(0))
    gate = new Promise((r) => {
      release = r
    })
    for (let i = 0; i < 5; i++) {
      tick()
      await new Promise((r) => setTimeout(r, 5))
    }
    expect(signed).toBe(1) // one in flight; the other four ticks were skipped
    gate = null
    release()
    await log.append(event(1))
    await log.checkpoint() // runs after the timer's
    await log.append(event(2))
    tick() // the timer is free again
    await log.append(event(3))
    await log.close()
    const cps = await (await openFileStore({ dir, readOnly: true })).readCheckpoints()
    expect(cps.map((c) => c.size)).toEqual([1, 2, 3, 4]) // timer, explicit, timer, close
  })
})

describe('directoryAnchor under concurrency', () => {
  it('never shows a half-written checkpoint to a reader in another process', async () => {
    const dir = tempDir()
    const count = 800
    const child = spawn(
      process.execPath,
      ['--conditions=@safeguards/source', '--import', 'tsx', anchorWriter, dir, String(count)],
      { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] },
    )
    let err = ''
    child.stderr.on('data', (c) => {
      err += c
    })
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    let done = false
    void exited.then(() => {
      done = true
    })
    const anchor = directoryAnchor(dir)
    const failures: string[] = []
    let lists = 0
    // Bounded by the writer, which stops after `count` checkpoints.
    while (!done) {
      try {
        await anchor.list('s')
      } catch (e) {
        failures.push((e as Error).message)
      }
      lists++
      await new Promise((r) => setImmediate(r))
    }
    expect(await exited, err).toBe(0)
    expect(failures).toEqual([])
    expect(lists).toBeGreaterThan(0)
    expect((await anchor.list('s')).map((c) => c.index)).toEqual(Array.from({ length: count }, (_, i) => i))
    expect(readdirSync(join(dir, 's')).filter((n) => !/^\d{20}\.json$/.test(n))).toEqual([]) // no temporary files left
  }, 60_000)

  it('ignores a temporary file a crashed writer left behind', async () => {
    const dir = tempDir()
    const anchor = directoryAnchor(dir)
    const cp = { index: 0, size: 1, jws: '{"payload":"a","protected":"b","signature":"c"}' }
    await anchor.put('s', cp)
    writeFileSync(join(dir, 's', '.tmp-host-1-0'), '{"ind')
    expect(await anchor.list('s')).toEqual([cp])
  })
})
