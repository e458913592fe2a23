import { type ChildProcess, spawn } from 'node:child_process'
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { collectOutput, deadPid } from '../../../scripts/test-support/child-process.js'
import { isSafeguardsError, LockLostError, LockTimeoutError } from '../src/index.js'
import { acquireFileLock, withFileLock } from '../src/node/index.js'
import { lockHooks } from '../src/node/internal/lock-hooks.js'

const ROOT = resolve(import.meta.dirname, '../../..')
const fixture = (name: string): string => join(import.meta.dirname, 'fixtures', name)
const tempDir = (): string => mkdtempSync(join(tmpdir(), 'sg-lock-'))
const linux = existsSync('/proc/self/stat')

function child(script: string, args: string[]): ChildProcess {
  return spawn(
    process.execPath,
    ['--conditions=@safeguards/source', '--import', 'tsx', fixture(script), ...args],
    {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  )
}

function firstLine(p: ChildProcess): Promise<string> {
  return new Promise((res, rej) => {
    let out = ''
    p.stdout!.on('data', (d: Uint8Array) => {
      out += new TextDecoder().decode(d)
      const nl = out.indexOf('\n')
      if (nl >= 0) res(out.slice(0, nl))
    })
    p.on('close', () => rej(new Error(`child ended before a line: ${out}`)))
  })
}

function selfRecord(over: Record<string, unknown>): string {
  const proc = linux
    ? {
        boot: readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim(),
        pidns: readlinkSync('/proc/self/ns/pid'),
      }
    : { boot: null, pidns: null }
  return JSON.stringify({
    pid: process.pid,
    host: hostname(),
    ...proc,
    start: null,
    nonce: 'ab'.repeat(16),
    acquiredAt: '2026-01-01T00:00:00.000Z',
    ...over,
  })
}

afterEach(() => {
  lockHooks.pause = undefined
})

describe('file lock: one process', () => {
  it('excludes a second holder, names the first in the timeout error, and lets go on release', async () => {
    const path = join(tempDir(), 'x.lock')
    const a = await acquireFileLock(path)
    const record = JSON.parse(readFileSync(path, 'utf8'))
    expect(record).toMatchObject({ pid: process.pid, host: hostname() })
    expect(record.nonce).toMatch(/^[0-9a-f]{32}$/)
    const err = await acquireFileLock(path, { timeoutMs: 50 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(LockTimeoutError)
    expect((err as LockTimeoutError).holder?.pid).toBe(process.pid)
    expect((err as LockTimeoutError).path).toBe(path)
    expect(isSafeguardsError(err, 'ERR_LOCK_TIMEOUT')).toBe(true)
    expect(a.contended()).toBe(true)
    expect(a.held()).toBe(true)
    a.release()
    a.release()
    expect(existsSync(path)).toBe(false)
    const b = await acquireFileLock(path, { timeoutMs: 1000 })
    b.release()
    // No temporary holder files or claims are left behind.
    expect(readdirSync(join(path, '..'))).toEqual([])
  })

  it('serialises withFileLock callers in one process and releases on throw', async () => {
    const path = join(tempDir(), 'x.lock')
    const order: string[] = []
    const run = (name: string): Promise<void> =>
      withFileLock(path, async () => {
        order.push(`${name}+`)
        await new Promise((r) => setTimeout(r, 20))
        order.push(`${name}-`)
      })
    await Promise.all([run('a'), run('b'), run('c')])
    expect(order.join('')).toMatch(/^(([abc])\+\2-){3}$/)
    await expect(withFileLock(path, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    expect(existsSync(path)).toBe(false)
  })

  it('assertHeld throws LockLostError once the lock file no longer names the holder', async () => {
    const path = join(tempDir(), 'x.lock')
    const lock = await acquireFileLock(path)
    lock.assertHeld()
    writeFileSync(path, selfRecord({ nonce: 'cd'.repeat(16) }))
    expect(lock.held()).toBe(false)
    expect(() => lock.assertHeld()).toThrow(LockLostError)
    lock.release()
    // Release never removes a lock that names someone else.
    expect(JSON.parse(readFileSync(path, 'utf8')).nonce).toBe('cd'.repeat(16))
  })

  it('breaks the lock of a dead process on this host', async () => {
    const path = join(tempDir(), 'x.lock')
    writeFileSync(
      path,
      selfRecord({ pid: deadPid(), pidns: linux ? readlinkSync('/proc/self/ns/pid') : null }),
    )
    const lock = await acquireFileLock(path, { timeoutMs: 2000 })
    expect(lock.held()).toBe(true)
    lock.release()
  })

  it('opens a lock left in the legacy audit-log format by a dead process', async () => {
    const path = join(tempDir(), 'lock')
    writeFileSync(path, `${deadPid()}\n${hostname()}\n123.a.b`)
    const lock = await acquireFileLock(path, { timeoutMs: 2000 })
    lock.release()
  })

  it.runIf(linux)(
    'breaks a lock whose pid was recycled (same pid, another start tick) or is from an earlier boot',
    async () => {
      const path = join(tempDir(), 'x.lock')
      writeFileSync(path, selfRecord({ start: '1' }))
      ;(await acquireFileLock(path, { timeoutMs: 2000 })).release()
      writeFileSync(path, selfRecord({ boot: '00000000-0000-0000-0000-000000000000', pid: 1 }))
      ;(await acquireFileLock(path, { timeoutMs: 2000 })).release()
    },
  )

  it('never breaks a lock it cannot prove dead: another host, another pid namespace, no holder, a live pid', async () => {
    const dir = tempDir()
    const cases: [string, string][] = [
      ['other host', selfRecord({ pid: deadPid(), host: `${hostname()}-elsewhere` })],
      ['live pid', selfRecord({ pid: process.ppid })],
      ['empty (legacy envelope lock or a crash mid-create)', ''],
      ['garbage', '{"pid":"x"}'],
    ]
    if (linux) cases.push(['other pid namespace', selfRecord({ pid: deadPid(), pidns: 'pid:[1]' })])
    for (const [name, content] of cases) {
      const path = join(dir, `${name.replace(/\W+/g, '-')}.lock`)
      writeFileSync(path, content)
      const err = await acquireFileLock(path, { timeoutMs: 80 }).catch((e: unknown) => e)
      expect(err, name).toBeInstanceOf(LockTimeoutError)
      expect(readFileSync(path, 'utf8'), name).toBe(content)
    }
  })
})

describe('file lock: many processes', () => {
  it('a live holder stopped with SIGSTOP for longer than every timeout is never broken; waiters time out', async () => {
    const dir = tempDir()
    const path = join(dir, 'x.lock')
    const holder = child('lock-holder.ts', [path])
    const done = collectOutput(holder)
    expect(await firstLine(holder)).toBe(`held ${holder.pid}`)
    holder.kill('SIGSTOP')
    try {
      // Waiters in other processes: each must time out rather than take the lock.
      const waiters = Array.from({ length: 3 }, () =>
        spawn(
          process.execPath,
          [
            '--conditions=@safeguards/source',
            '--import',
            'tsx',
            '-e',
            `import('${join(ROOT, 'packages/core/src/node/index.ts')}').then(m => m.acquireFileLock(${JSON.stringify(
              path,
            )}, { timeoutMs: 1500 })).then(() => process.exit(0), (e) => { process.stderr.write(e.code); process.exit(7) })`,
          ],
          { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
        ),
      )
      const results = await Promise.all(waiters.map(collectOutput))
      for (const r of results) expect([r.code, r.err]).toEqual([7, 'ERR_LOCK_TIMEOUT'])
      const err = await acquireFileLock(path, { timeoutMs: 500 }).catch((e: unknown) => e)
      expect((err as LockTimeoutError).holder?.pid).toBe(holder.pid)
    } finally {
      holder.kill('SIGCONT')
    }
    holder.stdin!.write('go\n')
    const out = await firstLine(holder)
    expect(out).toBe('still-held')
    expect((await done).code).toBe(0)
    expect(existsSync(path)).toBe(false)
  }, 60_000)

  it('processes racing stale locks with every window stretched lose no acknowledged write', async () => {
    // Each round starts from a stale lock (a dead holder); children also die holding the lock
    // now and then (SIGKILL), leaving fresh stale locks mid-run. Pauses of up to maxDelay ms are
    // injected at every step of the lock code, the read-modify-write and the release.
    const rounds: [children: number, iterations: number, crashEvery: number, maxDelayMs: number][] = [
      [6, 4, 4, 30],
      [6, 3, 3, 120],
      [4, 3, 2, 300],
    ]
    for (const [n, iterations, crashEvery, maxDelay] of rounds) {
      const dir = tempDir()
      const path = join(dir, 'x.lock')
      writeFileSync(join(dir, 'data.json'), '[]')
      writeFileSync(path, selfRecord({ pid: deadPid(), start: null }))
      const kids = Array.from({ length: n }, (_, i) =>
        child('lock-racer.ts', [
          path,
          dir,
          `c${i}`,
          String(iterations),
          String(crashEvery),
          String(maxDelay),
        ]),
      )
      const results = await Promise.all(kids.map(collectOutput))
      for (const r of results) {
        // 0 done, or killed by its own SIGKILL; never 3 (overlap) or 4 (lock lost).
        expect(r.code === 0 || r.signal === 'SIGKILL', `${r.code} ${r.signal} ${r.err}`).toBe(true)
      }
      const list = JSON.parse(readFileSync(join(dir, 'data.json'), 'utf8')) as string[]
      const acked = readdirSync(dir)
        .filter((f) => f.startsWith('ack-'))
        .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean))
      expect(new Set(list).size).toBe(list.length)
      for (const a of acked) expect(list).toContain(a)
      expect(acked.length).toBeGreaterThan(0)
    }
  }, 180_000)
})

describe('file lock: every window, in one process', () => {
  const dead = (): string => selfRecord({ pid: deadPid() })

  it('takes the right to break over from a breaker that died holding its claim', async () => {
    const dir = tempDir()
    const path = join(dir, 'x.lock')
    writeFileSync(path, dead())
    const x = JSON.parse(readFileSync(path, 'utf8')).nonce as string
    const breaker = selfRecord({ pid: deadPid(), nonce: '12'.repeat(16) })
    writeFileSync(`${path}.break-${x}`, breaker)
    const lock = await acquireFileLock(path, { timeoutMs: 2000 })
    expect(lock.held()).toBe(true)
    lock.release()
    expect(readdirSync(dir)).toEqual([])
  })

  it('waits while a live breaker (or an unreadable claim) holds the right to break, and times out', async () => {
    for (const claim of [selfRecord({ pid: process.ppid, nonce: '34'.repeat(16) }), 'not a holder']) {
      const dir = tempDir()
      const path = join(dir, 'x.lock')
      const record = dead()
      writeFileSync(path, record)
      const x = JSON.parse(record).nonce as string
      writeFileSync(`${path}.break-${x}`, claim)
      const err = await acquireFileLock(path, { timeoutMs: 60 }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(LockTimeoutError)
      expect(readFileSync(path, 'utf8')).toBe(record)
    }
  })

  it('a lock released between the failed create and the read is simply retried', async () => {
    const path = join(tempDir(), 'x.lock')
    writeFileSync(path, selfRecord({ pid: process.ppid }))
    lockHooks.pause = async (point) => {
      if (point === 'after-eexist') rmSync(path, { force: true })
    }
    const lock = await acquireFileLock(path, { timeoutMs: 2000 })
    expect(lock.held()).toBe(true)
    lock.release()
  })

  it('removes a dead holder only if the lock still names it after the claim (re-read)', async () => {
    const path = join(tempDir(), 'x.lock')
    writeFileSync(path, dead())
    // Between the claim and the re-read, the lock changes hands (here: to another dead holder).
    const second = selfRecord({ pid: deadPid(), nonce: '56'.repeat(16) })
    let swapped = false
    lockHooks.pause = async (point) => {
      if (point === 'after-claim' && !swapped) {
        swapped = true
        writeFileSync(path, second)
      }
    }
    const seen: string[] = []
    const pause = lockHooks.pause
    lockHooks.pause = async (point) => {
      seen.push(point)
      await pause(point)
    }
    const lock = await acquireFileLock(path, { timeoutMs: 2000 })
    // The first break found another holder and left it; the second judged that one and broke it.
    expect(seen.filter((p) => p === 'after-judged-dead').length).toBe(2)
    lock.release()
  })

  it('sweeps what crashed processes left beside the lock after a break, and only that', async () => {
    const dir = tempDir()
    const path = join(dir, 'x.lock')
    writeFileSync(path, dead())
    writeFileSync(`${path}.break-${'78'.repeat(16)}`, dead())
    writeFileSync(
      join(dir, `.x.lock.${'9a'.repeat(16)}.holder`),
      selfRecord({ pid: deadPid(), nonce: '9a'.repeat(16) }),
    )
    const live = `.x.lock.${'bc'.repeat(16)}.holder`
    writeFileSync(join(dir, live), selfRecord({ pid: process.ppid, nonce: 'bc'.repeat(16) }))
    writeFileSync(join(dir, 'unrelated.txt'), 'x')
    const lock = await acquireFileLock(path, { timeoutMs: 2000 })
    expect(readdirSync(dir).sort()).toEqual([live, 'unrelated.txt', 'x.lock'].sort())
    lock.release()
    expect(lock.contended()).toBe(false)
  })

  it('refuses a bad timeout and reports file-system failures as IoError naming the lock', async () => {
    await expect(acquireFileLock(join(tempDir(), 'x.lock'), { timeoutMs: -1 })).rejects.toThrow(RangeError)
    await expect(acquireFileLock(join(tempDir(), 'x.lock'), { timeoutMs: Number.NaN })).rejects.toThrow(
      RangeError,
    )
    const missing = join(tempDir(), 'no-such-dir', 'x.lock')
    await expect(acquireFileLock(missing)).rejects.toMatchObject({
      code: 'ERR_IO',
      path: missing,
      syscallCode: 'ENOENT',
    })
    // A legacy record with a malformed nonce names no holder: never broken.
    const path = join(tempDir(), 'lock')
    writeFileSync(path, `${deadPid()}\n${hostname()}\nbad nonce!`)
    await expect(acquireFileLock(path, { timeoutMs: 40 })).rejects.toBeInstanceOf(LockTimeoutError)
  })

  it('queued callers in one process time out in the queue, in order, naming the holder', async () => {
    const path = join(tempDir(), 'x.lock')
    const a = await acquireFileLock(path)
    const b = acquireFileLock(path, { timeoutMs: 30 })
    const c = acquireFileLock(path, { timeoutMs: 5000 })
    const err = await b.catch((e: unknown) => e)
    expect((err as LockTimeoutError).holder?.pid).toBe(process.pid)
    a.release()
    const lockC = await c
    expect(lockC.held()).toBe(true)
    lockC.release()
  })
})
