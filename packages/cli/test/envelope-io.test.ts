/**
 * `encrypt|decrypt|rewrap|inspect|keys`: I/O failures say which path failed and what was attempted
 * (exit 74), and long streams show progress on stderr (on a terminal, or with --progress).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { Readable, Writable } from 'node:stream'
import { LockLostError, LockTimeoutError } from '@safeguards/core'
import { beforeAll, describe, expect, it } from 'vitest'
import { mapEnvelopeError } from '../src/commands/envelope-shared.js'
import { CliExit, describeFailure } from '../src/index.js'
import { type BinaryRunOptions, runBinary, words, workDir } from './helpers.js'

const { dir, p } = workDir('sg-cli-envelope-io-')
const cli = (argv: string[], opts: BinaryRunOptions = {}) => runBinary(dir, argv, opts)

/** The terminal sequence that ends a redrawn bar (erase to the end of the line). */
const ERASE_LINE = '\x1b[K'

const data = new Uint8Array(3 * 1048576).map((_, i) => (i * 31) & 0xff)

beforeAll(async () => {
  expect((await cli(['keys', 'init', '--keyring', 'k.json'])).code).toBe(0)
  writeFileSync(p('plain.bin'), data)
  expect((await cli(['encrypt', '--keyring', 'k.json', '--in', 'plain.bin', '--out', 'ct.hge'])).code).toBe(0)
  mkdirSync(p('adir'))
})

const tmpLeft = (d: string) => readdirSync(d).filter((f) => f.endsWith('.tmp'))

describe('I/O failures name the path and what was attempted (exit 74)', () => {
  it.each([
    ['encrypt', 'plain.bin'],
    ['decrypt', 'ct.hge'],
    ['rewrap', 'ct.hge'],
  ])(
    '%s --out DIR: cannot create the output DIR (EISDIR), not "cannot read the input"',
    async (mode, input) => {
      const r = await cli([mode, '--keyring', 'k.json', '--in', input, '--out', 'adir'])
      expect(r.code).toBe(74)
      expect(r.stderr).toBe(`safeguards ${mode}: cannot create the output ${p('adir')} (EISDIR) (ERR_IO)\n`)
      expect(tmpLeft(dir)).toEqual([])
    },
  )

  it.each([
    ['encrypt', 'plain.bin'],
    ['decrypt', 'ct.hge'],
    ['rewrap', 'ct.hge'],
  ])('%s --out missing-dir/x: cannot create the output (ENOENT)', async (mode, input) => {
    const r = await cli([mode, '--keyring', 'k.json', '--in', input, '--out', 'missing-dir/x'])
    expect(r.code).toBe(74)
    expect(r.stderr).toBe(
      `safeguards ${mode}: cannot create the output ${p('missing-dir/x')} (ENOENT) (ERR_IO)\n`,
    )
  })

  it('--in a directory or a missing file: cannot read the input, naming it', async () => {
    const d = await cli(['encrypt', '--keyring', 'k.json', '--in', 'adir', '--out', 'o.hge'])
    expect(d.code).toBe(74)
    expect(d.stderr).toBe(`safeguards encrypt: cannot read the input ${p('adir')} (EISDIR) (ERR_IO)\n`)
    const m = await cli(['decrypt', '--keyring', 'k.json', '--in', 'nope.hge'])
    expect(m.code).toBe(74)
    expect(m.stderr).toBe(`safeguards decrypt: cannot read the input ${p('nope.hge')} (ENOENT) (ERR_IO)\n`)
    const i = await cli(['inspect', '--in', 'adir'])
    expect(i.code).toBe(74)
    expect(i.stderr).toBe(`safeguards inspect: cannot read the input ${p('adir')} (EISDIR) (ERR_IO)\n`)
    expect(existsSync(p('o.hge'))).toBe(false)
  })

  it('a failing stdin or stdout is blamed on that side', async () => {
    const broken = new Readable({
      read() {
        this.destroy(Object.assign(new Error('input/output error'), { code: 'EIO' }))
      },
    })
    const r = await cli(['encrypt', '--keyring', 'k.json'], { stdin: broken })
    expect(r.code).toBe(74)
    expect(r.stderr).toBe('safeguards encrypt: cannot read the input stdin (EIO) (ERR_IO)\n')
    const full = new Writable({
      write(_c, _e, cb) {
        cb(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }))
      },
    })
    const w = await cli(['decrypt', '--keyring', 'k.json', '--in', 'ct.hge'], { stdout: full })
    expect(w.code).toBe(74)
    expect(w.stderr).toBe('safeguards decrypt: cannot write the output stdout (ENOSPC) (ERR_IO)\n')
  })

  it('keys: a directory is "not a regular file", a missing keyring is I/O (74), init refuses an existing one', async () => {
    const d = await cli(['keys', 'list', '--keyring', 'adir'])
    expect(d.code).toBe(2) // the keyring's own category for it: invalid-input
    expect(d.stderr).toBe(
      `safeguards keys: cannot read the keyring ${p('adir')}: not a regular file (ERR_KEYRING_FILE)\n`,
    )
    expect(d.stderr).not.toContain('group or others')
    const m = await cli(['keys', 'list', '--keyring', 'none.json'])
    expect(m.code).toBe(74)
    expect(m.stderr).toBe(`safeguards keys: keyring file not found: ${p('none.json')} (ERR_KEYRING_FILE)\n`)
    const e = await cli(['keys', 'init', '--keyring', 'k.json'])
    expect(e.code).toBe(2)
    expect(e.stderr).toBe(
      `safeguards keys: --keyring ${p('k.json')} already exists; refusing to overwrite it\n`,
    )
  })
})

describe('--out is replaced atomically', () => {
  it('a decryption that fails mid-stream leaves the old --out intact and no temporary file', async () => {
    const ct = readFileSync(p('ct.hge'))
    const bad = Buffer.from(ct)
    const at = Math.floor(bad.length / 2) // a frame in the middle: the frames before it were written
    bad[at] = (bad[at] as number) ^ 1
    writeFileSync(p('bad.hge'), bad)
    const old = new TextEncoder().encode('the previous plaintext\n')
    writeFileSync(p('kept.bin'), old)
    const r = await cli(['decrypt', '--keyring', 'k.json', '--in', 'bad.hge', '--out', 'kept.bin'])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe('safeguards decrypt: decryption failed\n')
    expect(Buffer.compare(readFileSync(p('kept.bin')), old)).toBe(0)
    expect(tmpLeft(dir)).toEqual([])
    // and a run that succeeds replaces it whole
    const ok = await cli(['decrypt', '--keyring', 'k.json', '--in', 'ct.hge', '--out', 'kept.bin'])
    expect(ok.code).toBe(0)
    expect(Buffer.compare(readFileSync(p('kept.bin')), data)).toBe(0)
    expect(tmpLeft(dir)).toEqual([])
  })
})

describe('progress on stderr for encrypt/decrypt/rewrap', () => {
  it('on a terminal: a bar in MiB on stderr; stdout carries the output only', async () => {
    const r = await cli(['encrypt', '--keyring', 'k.json', '--in', 'plain.bin'], { tty: true })
    expect(r.code).toBe(0)
    expect(r.stderr.endsWith(`\r[${'#'.repeat(24)}] 100% 3.0/3.0 MiB${ERASE_LINE}\n`)).toBe(true)
    const back = await cli(['decrypt', '--keyring', 'k.json'], { stdin: Readable.from([r.stdout]) })
    expect(Buffer.compare(back.stdout, data)).toBe(0)
    const d = await cli(['decrypt', '--keyring', 'k.json', '--in', 'ct.hge', '--out', 'p2.bin'], {
      tty: true,
    })
    expect(d.code).toBe(0)
    expect(d.stderr.endsWith(`100% 3.0/3.0 MiB${ERASE_LINE}\n`)).toBe(true)
    expect(d.stdout.length).toBe(0)
  })

  it('not on a terminal: nothing, unless --progress', async () => {
    const quiet = await cli(['rewrap', '--keyring', 'k.json', '--in', 'ct.hge', '--out', 'r.hge'])
    expect(quiet.code).toBe(0)
    expect(quiet.stderr).toBe('')
    const loud = await cli(words`rewrap --keyring k.json --in ct.hge --out r.hge --progress`)
    expect(loud.code).toBe(0)
    expect(loud.stderr).toMatch(/^(\d+% [\d.]+\/3\.0 MiB\n)+$/)
    expect(loud.stderr).toMatch(/100% 3\.0\/3\.0 MiB\n$/)
    const stdin = await cli(['encrypt', '--keyring', 'k.json', '--progress'], {
      stdin: Readable.from([data]),
    })
    expect(stdin.stderr).toMatch(/^3\.0 MiB\n$/) // size unknown: a count
  })

  it('a failure ends the bar before the error line', async () => {
    const r = await cli(['decrypt', '--keyring', 'k.json', '--context', 'a=1', '--in', 'ct.hge'], {
      tty: true,
    })
    expect(r.code).toBe(1)
    expect(r.stderr.endsWith(`MiB${ERASE_LINE}\nsafeguards decrypt: decryption failed\n`)).toBe(true)
  })
})

describe('the keyring lock', () => {
  it('a lock lost before the write exits 75 like a lock timeout (envelope README table)', () => {
    let thrown: unknown
    try {
      mapEnvelopeError(new LockLostError())
    } catch (e) {
      thrown = e
    }
    expect(thrown).toBeInstanceOf(CliExit)
    expect(describeFailure(thrown)).toMatchObject({
      exitCode: 75,
      code: 'ERR_LOCK_LOST',
      category: 'conflict',
    })
    const timeout = new LockTimeoutError(10, undefined, '/k.json.lock')
    expect(() => mapEnvelopeError(timeout)).toThrow(timeout) // the runner maps it: unavailable, 75
    expect(describeFailure(timeout).exitCode).toBe(75)
  })
})
