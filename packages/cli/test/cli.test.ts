import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import {
  CodedError,
  IoError,
  isSafeguardsError,
  LockTimeoutError,
  manualClock,
  SafeguardsError,
} from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import {
  CliExit,
  type Command,
  categoryExitCodes,
  createProgress,
  describeFailure,
  ExitCode,
  keyValues,
  optionalString,
  parseCommandArgs,
  parseDuration,
  requireString,
  runCli,
  UsageError,
  writeJson,
  writeLine,
} from '../src/index.js'
import { fakeIO } from './helpers.js'

const pkgDir = resolve(import.meta.dirname, '..')
const version = (JSON.parse(readFileSync(resolve(pkgDir, 'package.json'), 'utf8')) as { version: string })
  .version

const echo: Command = {
  name: 'echo',
  summary: 'prints its options',
  usage: 'Usage: safeguards echo --name NAME [--json] [--context K=V]...',
  async run({ argv, io }) {
    const { values } = parseCommandArgs(argv, {
      name: { type: 'string' },
      json: { type: 'boolean' },
      context: { type: 'string', multiple: true },
      fail: { type: 'string' },
      throw: { type: 'string' },
    })
    const fail = optionalString(values, 'fail')
    if (fail) throw new CliExit(Number(fail), 'check failed: 3 findings')
    const t = optionalString(values, 'throw')
    if (t === 'plain') throw Object.assign(new Error('/secret/path leaked'), { code: 'ENOENT' })
    if (t === 'sg') throw new UsageError('--throw was given')
    const name = requireString(values, 'name')
    const context = keyValues(values.context as string[] | undefined, 'context')
    if (values.json) writeJson(io, { name, context })
    else writeLine(io, `hello ${name}`)
    return ExitCode.OK
  },
}

describe('runCli', () => {
  it('prints help (exit 0) and usage without a command (exit 2)', async () => {
    for (const arg of ['--help', '-h', 'help']) {
      const f = fakeIO()
      expect(await runCli([arg], f.io, { commands: [echo] })).toBe(0)
      expect(f.stdout()).toContain('Usage: safeguards <command>')
      expect(f.stdout()).toMatch(/echo\s+prints its options/)
    }
    const f = fakeIO()
    expect(await runCli([], f.io, { commands: [] })).toBe(2)
    expect(f.stdout()).toContain('(none installed)')
  })

  it('prints the package version', async () => {
    for (const arg of ['--version', '-v', 'version']) {
      const f = fakeIO()
      expect(await runCli([arg], f.io)).toBe(0)
      expect(f.stdout()).toBe(`${version}\n`)
    }
  })

  it('rejects unknown commands with exit 2 and one line', async () => {
    const f = fakeIO()
    expect(await runCli(['nope'], f.io, { commands: [echo] })).toBe(2)
    expect(f.stderr().trim().split('\n')).toHaveLength(1)
    expect(f.stderr()).toContain('unknown command "nope"')
  })

  it('prints a command usage for --help', async () => {
    const f = fakeIO()
    expect(await runCli(['echo', '--help'], f.io, { commands: [echo] })).toBe(0)
    expect(f.stdout()).toBe(`${echo.usage}\n`)
  })

  it('runs a command, with --json producing one document', async () => {
    const f = fakeIO()
    expect(
      await runCli(['echo', '--name', 'x', '--json', '--context', 'a=1', '--context', 'b=c=d'], f.io, {
        commands: [echo],
      }),
    ).toBe(0)
    expect(JSON.parse(f.stdout())).toEqual({ name: 'x', context: { a: '1', b: 'c=d' } })
    const g = fakeIO()
    expect(await runCli(['echo', '--name', 'x'], g.io, { commands: [echo] })).toBe(0)
    expect(g.stdout()).toBe('hello x\n')
  })

  it.each([
    [['--name'], /--name/],
    [['--bogus'], /--bogus/],
    [[], /--name is required/],
    [['--name', 'x', 'extra'], /unexpected argument at position 1/],
    [['--name', 'x', '--context', 'novalue'], /--context expects KEY=VALUE/],
    [['--name', 'x', '--context', 'a=1', '--context', 'a=2'], /repeats the key "a"/],
    [['--throw', 'sg'], /--throw was given/],
  ])('usage errors exit 2 with one line naming the argument: %j', async (args, pattern) => {
    const f = fakeIO()
    expect(await runCli(['echo', ...args], f.io, { commands: [echo] })).toBe(2)
    const lines = f.stderr().trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^safeguards echo: /)
    expect(lines[0]).toMatch(pattern)
    expect(f.stderr()).not.toMatch(/\n\s+at /) // no stack trace
  })

  it('documented failures use their exit code', async () => {
    const f = fakeIO()
    expect(await runCli(['echo', '--fail', '1'], f.io, { commands: [echo] })).toBe(1)
    expect(f.stderr()).toBe('safeguards echo: check failed: 3 findings\n')
    expect(() => new CliExit(0, 'x')).toThrow(RangeError)
    expect(() => new CliExit(126, 'x')).toThrow(RangeError)
  })

  it('unexpected errors exit 70 (never 2) with a code, never the message or a stack, unless SAFEGUARDS_DEBUG=1', async () => {
    const f = fakeIO()
    expect(await runCli(['echo', '--throw', 'plain'], f.io, { commands: [echo] })).toBe(70)
    expect(f.stderr()).toBe(
      'safeguards echo: unexpected error (ENOENT); set SAFEGUARDS_DEBUG=1 for details\n',
    )
    const g = fakeIO('', { env: { SAFEGUARDS_DEBUG: '1' } })
    await runCli(['echo', '--throw', 'plain'], g.io, { commands: [echo] })
    expect(g.stderr()).toContain('at ')
  })

  it('typed SafeguardsErrors from libraries exit 2 with their code', async () => {
    const { InvalidArgumentError } = await import('@safeguards/core')
    const boom: Command = {
      ...echo,
      name: 'boom',
      run: async () => Promise.reject(new InvalidArgumentError('bad "x"')),
    }
    const f = fakeIO()
    expect(await runCli(['boom'], f.io, { commands: [boom] })).toBe(2)
    expect(f.stderr()).toBe('safeguards boom: bad "x" (ERR_INVALID_ARGUMENT)\n')
  })

  const thrower = (error: unknown): Command => ({
    ...echo,
    name: 'boom',
    run: async () => Promise.reject(error),
  })

  it.each([
    ['integrity', 1],
    ['invalid-argument', 2],
    ['invalid-input', 2],
    ['conflict', 2],
    ['limit', 2],
    ['key-unavailable', 3],
    ['io', 74],
    ['unavailable', 75],
  ] as const)('an SDK error of category %s exits %i', async (category, exitCode) => {
    const f = fakeIO()
    const error = new SafeguardsError('ERR_TEST', 'it failed', { category })
    expect(await runCli(['boom'], f.io, { commands: [thrower(error)] })).toBe(exitCode)
    expect(f.stderr()).toBe('safeguards boom: it failed (ERR_TEST)\n')
    expect(categoryExitCodes[category]).toBe(exitCode)
  })

  it('I/O errors exit 74 and lock timeouts 75, naming the path; foreign ERR_ errors are bugs (70)', async () => {
    const f = fakeIO()
    const io = new IoError('read the input', '/data/in.bin', {
      cause: Object.assign(new Error('x'), { code: 'ENOENT' }),
    })
    expect(await runCli(['boom'], f.io, { commands: [thrower(io)] })).toBe(74)
    expect(f.stderr()).toBe('safeguards boom: cannot read the input /data/in.bin (ENOENT) (ERR_IO)\n')
    const g = fakeIO()
    const held = new LockTimeoutError(
      50,
      { pid: 7, host: 'h', acquiredAt: '2026-01-01T00:00:00Z' },
      '/k.lock',
    )
    expect(await runCli(['boom'], g.io, { commands: [thrower(held)] })).toBe(75)
    expect(g.stderr()).toContain('held by pid 7 on h')
    // Node's own ERR_INVALID_ARG_TYPE is not an SDK error: an internal error, exit 70, not a usage error.
    const h = fakeIO()
    const nodeError = Object.assign(new TypeError('The "path" argument must be of type string'), {
      code: 'ERR_INVALID_ARG_TYPE',
    })
    expect(await runCli(['boom'], h.io, { commands: [thrower(nodeError)] })).toBe(70)
    expect(h.stderr()).toBe(
      'safeguards boom: unexpected error (ERR_INVALID_ARG_TYPE); set SAFEGUARDS_DEBUG=1 for details\n',
    )
  })

  it('CliExit keeps its own exit code and reports the category of its cause', () => {
    const cause = new IoError('read', '/x')
    expect(describeFailure(new CliExit(5, 'not decryptable', { cause }))).toMatchObject({
      exitCode: 5,
      code: 'ERR_IO',
      category: 'io',
      line: 'not decryptable',
    })
    expect(describeFailure(new CliExit(3, 'key unavailable'))).toMatchObject({
      code: 'ERR_CLI_EXIT',
      category: 'key-unavailable',
    })
    expect(describeFailure(new CliExit(4, 'stale')).category).toBe('integrity')
  })

  it('UsageError and CliExit are coded SDK errors: static and instance code, category, cause, brand', () => {
    const cause = new IoError('read', '/x')
    const usage = new UsageError('--file is not valid JSON', { cause, category: 'invalid-input' })
    expect(UsageError.code).toBe('ERR_CLI_USAGE')
    expect(usage).toBeInstanceOf(CodedError)
    expect(usage).toMatchObject({ name: 'UsageError', code: 'ERR_CLI_USAGE', category: 'invalid-input' })
    expect(usage.exitCode).toBe(2)
    expect(usage.cause).toBe(cause)
    expect(isSafeguardsError(usage, 'ERR_CLI_USAGE')).toBe(true)
    expect(new UsageError('--x is required').category).toBe('invalid-argument')
    expect(new UsageError('--x is required').cause).toBeUndefined()
    expect(new UsageError('--x').toJSON()).toEqual({
      name: 'UsageError',
      code: 'ERR_CLI_USAGE',
      category: 'invalid-argument',
      message: '--x',
    })
    const exit = new CliExit(3, 'key unavailable', { cause })
    expect(CliExit.code).toBe('ERR_CLI_EXIT')
    expect(exit).toBeInstanceOf(CodedError)
    expect(exit).toMatchObject({ name: 'CliExit', code: 'ERR_CLI_EXIT', category: 'io', exitCode: 3 })
    expect(new CliExit(2, 'x', { cause, category: 'conflict' }).category).toBe('conflict')
    expect(isSafeguardsError(exit, 'ERR_CLI_EXIT')).toBe(true)
  })

  it('--help lists the global exit codes and the --json failure document', async () => {
    const f = fakeIO()
    expect(await runCli(['--help'], f.io, { commands: [echo] })).toBe(0)
    for (const line of [
      /^ {2}1 {3}a check failed/m,
      /^ {2}2 {3}usage error, malformed input/m,
      /^ {2}3 {3}a key, token, PIN or secret is unavailable/m,
      /^ {2}70 {2}internal error/m,
      /^ {2}74 {2}I\/O error/m,
      /^ {2}75 {2}temporarily unavailable/m,
      /"ok": false, "error": \{ "code"/,
    ])
      expect(f.stdout()).toMatch(line)
  })
})

describe('helpers', () => {
  it('parseDuration', () => {
    expect(parseDuration('250', 'x')).toBe(250)
    expect(parseDuration('90s', 'x')).toBe(90_000)
    expect(parseDuration('1.5m', 'x')).toBe(90_000)
    expect(parseDuration('36h', 'x')).toBe(129_600_000)
    expect(parseDuration('7d', 'x')).toBe(604_800_000)
    expect(() => parseDuration('7 days', 'max-age')).toThrow(/--max-age expects a duration/)
    expect(() => parseDuration('-1s', 'x')).toThrow(UsageError)
    expect(() => parseDuration(`${'9'.repeat(30)}d`, 'x')).toThrow(/out of range/)
  })

  it('parseCommandArgs enforces positional counts', () => {
    expect(parseCommandArgs(['a', 'b'], {}, [2, 2]).positionals).toEqual(['a', 'b'])
    expect(() => parseCommandArgs(['a'], {}, [2, 2])).toThrow(/at least 2/)
  })

  it('progress draws a bar on a terminal and lines elsewhere, always on stderr', () => {
    const clock = manualClock(0)
    const tty = fakeIO('', { tty: true })
    const p = createProgress(tty.io, { label: 'records', total: 4, clock })
    for (let i = 0; i < 4; i++) {
      clock.advance(200)
      p.tick()
    }
    p.done()
    expect(tty.stderr()).toContain('[######------------------] 25% 1/4 records')
    expect(tty.stderr()).toContain('100% 4/4 records')
    expect(tty.stdout()).toBe('')

    clock.set(0, true)
    const plain = fakeIO()
    const q = createProgress(plain.io, { label: 'files', clock })
    q.tick(10)
    clock.advance(6000)
    q.tick(5)
    q.setTotal(30)
    clock.advance(6000)
    q.tick(0)
    q.done()
    expect(plain.stderr()).toBe('15 files\n50% 15/30 files\n')
  })

  it('progress counts bytes in MiB, and with final: true always shows the final state', () => {
    const tty = fakeIO('', { tty: true })
    const p = createProgress(tty.io, {
      label: 'ignored',
      unit: 'bytes',
      total: 4 * 1048576,
      final: true,
      clock: manualClock(0),
    })
    p.tick(1048576) // never redrawn: no time passes
    p.done()
    expect(tty.stderr()).toBe('\r[######------------------] 25% 1.0/4.0 MiB\x1b[K\n')
    const plain = fakeIO()
    const q = createProgress(plain.io, { label: 'x', unit: 'bytes', final: true, clock: manualClock(0) })
    q.tick(3 * 524288)
    q.done()
    expect(plain.stderr()).toBe('1.5 MiB\n')
    const quiet = fakeIO('', { tty: true })
    const r = createProgress(quiet.io, { label: 'records', clock: manualClock(0) })
    r.tick()
    r.done()
    expect(quiet.stderr()).toBe('') // without final, a run too short to draw stays silent
  })
})

describe('the installed bin', () => {
  it('runs through node_modules/.bin/safeguards from the repo root after build', () => {
    const root = resolve(pkgDir, '../..')
    const bin = resolve(root, 'node_modules/.bin/safeguards')
    const built = spawnSync('test', ['-f', resolve(pkgDir, 'dist/bin.js')]).status === 0
    if (!built) {
      // In `npm run check` the build runs before the tests, so this branch is only for a bare `vitest` run.
      expect(spawnSync(bin, ['--version'], { encoding: 'utf8' }).stderr).toContain('not built yet')
      return
    }
    expect(execFileSync(bin, ['--version'], { encoding: 'utf8' })).toBe(`${version}\n`)
    const help = spawnSync(bin, ['--help'], { encoding: 'utf8' })
    expect(help.status).toBe(0)
    expect(help.stdout).toContain('Usage: safeguards')
    const bad = spawnSync(bin, ['no-such-command'], { encoding: 'utf8' })
    expect(bad.status).toBe(2)
  })
})

describe('the command registry', () => {
  it('every entry loads a command of the same name, and names are unique and sorted', async () => {
    const { commandEntries, loadCommands } = await import('../src/index.js')
    const names = commandEntries.map((e) => e.name)
    expect(names).toEqual([...names].sort())
    expect(new Set(names).size).toBe(names.length)
    const loaded = await loadCommands()
    expect(loaded.map((c) => c.name)).toEqual(names)
    for (const c of loaded) {
      expect(c.summary.length, c.name).toBeGreaterThan(0)
      expect(c.usage, c.name).toContain(`safeguards ${c.name}`)
    }
  })

  it('--help lists every registered command', async () => {
    const { commandEntries } = await import('../src/index.js')
    const f = fakeIO()
    expect(await runCli(['--help'], f.io)).toBe(0)
    for (const e of commandEntries) expect(f.stdout()).toMatch(new RegExp(`^  ${e.name}\\s`, 'm'))
  })
})
