/**
 * `--json` covers failures: one JSON document on stdout ({ ok: false, error: { code, category,
 * message }, exitCode }), the human line on stderr, for every command that accepts `--json`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { IoError } from '@safeguards/core'
import { afterAll, describe, expect, it } from 'vitest'
import { type Command, ExitCode, parseCommandArgs, runCli, UsageError, writeJson } from '../src/index.js'
import { fakeIO } from './helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'sg-cli-json-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function cli(argv: string[], commands?: Command[], stdin = '') {
  const f = fakeIO(stdin)
  f.io.cwd = dir
  const code = await runCli(argv, f.io, commands === undefined ? undefined : { commands })
  return { code, stdout: f.stdout(), stderr: f.stderr() }
}

/** A command with `--json` that fails as told. */
const probe: Command = {
  name: 'probe',
  summary: 'fails on demand',
  usage: 'Usage: safeguards probe [--json] [--fail io|usage|bug|after-document]',
  async run({ argv, io }) {
    const { values } = parseCommandArgs(argv, { json: { type: 'boolean' }, fail: { type: 'string' } })
    if (values.fail === 'io') throw new IoError('read the input', '/data/\u202Eevil\x1b[2J.bin')
    if (values.fail === 'usage') throw new UsageError('--fail was given')
    if (values.fail === 'bug') throw new TypeError('boom /secret/path')
    if (values.fail === 'after-document') {
      writeJson(io, { ok: false, findings: 3 })
      throw new IoError('write', '/state.json')
    }
    writeJson(io, { ok: true })
    return ExitCode.OK
  },
}

/** A command without `--json`. */
const plain: Command = {
  name: 'plain',
  summary: 'no json',
  usage: 'Usage: safeguards plain',
  async run({ argv }) {
    parseCommandArgs(argv, { fail: { type: 'boolean' } })
    throw new IoError('read', '/x')
  },
}

describe('the failure document', () => {
  it('an SDK error after --json: the document on stdout, the line on stderr', async () => {
    const r = await cli(['probe', '--json', '--fail', 'io'], [probe])
    expect(r.code).toBe(74)
    expect(JSON.parse(r.stdout)).toEqual({
      ok: false,
      error: {
        code: 'ERR_IO',
        category: 'io',
        message: 'cannot read the input /data/\\u202eevil\\x1b[2J.bin',
      },
      exitCode: 74,
    })
    expect(r.stderr).toBe('safeguards probe: cannot read the input /data/\\u202eevil\\x1b[2J.bin (ERR_IO)\n')
  })

  it('usage errors after --json, including a mistyped option', async () => {
    const r = await cli(['probe', '--json', '--fail', 'usage'], [probe])
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout)).toEqual({
      ok: false,
      error: { code: 'ERR_CLI_USAGE', category: 'invalid-argument', message: '--fail was given' },
      exitCode: 2,
    })
    const t = await cli(['probe', '--json', '--fial', 'io'], [probe])
    expect(t.code).toBe(2)
    expect(JSON.parse(t.stdout).error).toEqual({
      code: 'ERR_CLI_USAGE',
      category: 'invalid-argument',
      message: 'unknown option --fial; did you mean --fail?',
    })
    const u = await cli(['nope', '--json'], [probe])
    expect(u.code).toBe(2)
    expect(JSON.parse(u.stdout).error.code).toBe('ERR_CLI_USAGE')
  })

  it('an unexpected error: exit 70, code ERR_CLI_INTERNAL, category internal, no message leaked', async () => {
    const r = await cli(['probe', '--json', '--fail', 'bug'], [probe])
    expect(r.code).toBe(70)
    const doc = JSON.parse(r.stdout)
    expect(doc).toMatchObject({
      ok: false,
      error: { code: 'ERR_CLI_INTERNAL', category: 'internal' },
      exitCode: 70,
    })
    expect(r.stdout + r.stderr).not.toContain('/secret/path')
  })

  it('never a second document after the result document', async () => {
    const r = await cli(['probe', '--json', '--fail', 'after-document'], [probe])
    expect(r.code).toBe(74)
    expect(JSON.parse(r.stdout)).toEqual({ ok: false, findings: 3 })
    expect(r.stderr).toContain('cannot write /state.json')
  })

  it('nothing on stdout without --json, or from a command that does not take --json', async () => {
    const r = await cli(['probe', '--fail', 'io'], [probe])
    expect(r.code).toBe(74)
    expect(r.stdout).toBe('')
    const p = await cli(['plain', '--json'], [plain])
    expect(p.code).toBe(2)
    expect(p.stdout).toBe('')
    expect(p.stderr).toBe('safeguards plain: unknown option --json\n')
    // after `--`, "--json" is an argument, not the flag
    const q = await cli(['probe', '--fail', 'io', '--', '--json'], [probe])
    expect(q.stdout).toBe('')
  })
})

describe('every command that accepts --json reports failures as a document', () => {
  writeFileSync(join(dir, 'bad-policy.json'), '{"version":1,"version":1}')
  const missing = join(dir, 'missing')
  // [argv, exit code, error code]; stdin is empty.
  const cases: Array<[string[], number, string]> = [
    [['inspect', '--json', '--in', missing], 74, 'ERR_IO'],
    [['inspect', '--json', '--in', join(dir, 'bad-policy.json')], 2, 'ERR_CLI_USAGE'],
    [['keys', 'list', '--json', '--keyring', missing], 74, 'ERR_KEYRING_FILE'],
    [['keys', 'list', '--json'], 2, 'ERR_CLI_USAGE'],
    [['keys', 'lsit', '--json', '--keyring', missing], 2, 'ERR_CLI_USAGE'],
    [['hsm', 'list', '--json', '--key-name', 'k', '--token-label', 't'], 2, 'ERR_CLI_USAGE'],
    [['session', 'policy', '--json', '--file', missing], 74, 'ERR_IO'],
    [['session', 'id', '--json'], 1, 'ERR_CLI_EXIT'],
    [['password', 'check', '--json'], 2, 'ERR_CLI_USAGE'],
    [['password', 'calibrate', '--json', '--target-ms', '0'], 2, 'ERR_CLI_USAGE'],
    [['controls', '--json', '--oscal'], 2, 'ERR_CLI_USAGE'],
    [['access', 'lint', '--json', '--policy', missing], 74, 'ERR_IO'],
    [['access', 'test', '--json', '--policy', missing, '--cases', missing], 74, 'ERR_IO'],
    [['evidence', '--json'], 2, 'ERR_CLI_USAGE'],
    [['evidence', '--json', '--keyring', missing], 74, 'ERR_KEYRING_FILE'],
    [['audit', 'verify', '--json', '--no-signatures', '--log', missing], 74, 'ERR_AUDIT_STORE'],
    [['audit', 'verify', '--json', '--lgo', missing], 2, 'ERR_CLI_USAGE'],
    [['audit', 'verify', '--json', '--log', missing], 2, 'ERR_CLI_USAGE'], // no --public-key
    [['backup', 'create', missing, join(dir, 'bag'), '--json', '--bogus'], 2, 'ERR_CLI_USAGE'],
    [['backup', 'verify', missing, '--json', '--max-age', 'soon'], 2, 'ERR_CLI_USAGE'],
  ]
  it.each(cases)('%j exits %i with %s', async (argv, exitCode, code) => {
    const r = await cli(argv)
    expect(r.code).toBe(exitCode)
    const doc = JSON.parse(r.stdout) // exactly one document
    expect(doc).toMatchObject({ ok: false, error: { code }, exitCode })
    expect(Object.keys(doc).sort()).toEqual(['error', 'exitCode', 'ok'])
    expect(Object.keys(doc.error).sort()).toEqual(['category', 'code', 'message'])
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^safeguards \w+: /)
  })
})
