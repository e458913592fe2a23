/**
 * `safeguards encrypt|decrypt|rewrap` with the KEK in a SoftHSM2 token (`--key-name`), alone and
 * together with a local keyring, across a rotation in the token; and the exit codes when the
 * token, the PIN or the key version is unavailable.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { CliIO } from '../src/index.js'
import { runCli } from '../src/index.js'
import { fakeIO, words } from './helpers.js'
import { describeHsm, PIN_ENV, tokenOptions, useSoftHsm } from './softhsm.js'

const dir = mkdtempSync(join(tmpdir(), 'sg-cli-envelope-hsm-'))
const p = (name: string): string => join(dir, name)

async function cli(argv: string[], env: Record<string, string> = PIN_ENV) {
  const f = fakeIO('', { env })
  const out: Uint8Array[] = []
  const stdout = new PassThrough()
  stdout.on('data', (c: Uint8Array) => out.push(c))
  const io: CliIO = { ...f.io, stdout, cwd: dir, stdin: Readable.from([]) }
  const code = await runCli(argv, io)
  return { code, stdout: Buffer.concat(out), stderr: f.stderr() }
}

const token = tokenOptions('cli-env', 'phi')
const ctx = ['--context', 'table=patients', '--context', 'id=7']
const data = new Uint8Array(700_000).map((_, i) => (i * 31 + 7) & 0xff)

async function keyRefs(file: string): Promise<string[]> {
  const info = await cli(['inspect', '--in', file, '--json'])
  return (JSON.parse(info.stdout.toString()) as { keys: { keyRef: string }[] }).keys.map((k) => k.keyRef)
}

describeHsm('safeguards encrypt/decrypt/rewrap with an HSM key', () => {
  useSoftHsm(['cli-env'])

  beforeAll(async () => {
    writeFileSync(p('plain.bin'), data)
    expect((await cli(['hsm', 'rotate', ...token])).code).toBe(0)
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('encrypts and decrypts with the data key wrapped inside the token', async () => {
    expect((await cli(['encrypt', ...token, ...ctx, '--in', 'plain.bin', '--out', 'ct.hge'])).code).toBe(0)
    expect(await keyRefs('ct.hge')).toEqual(['pkcs11:phi@v1'])
    const dec = await cli(['decrypt', ...token, ...ctx, '--in', 'ct.hge'])
    expect(dec.code).toBe(0)
    expect(Buffer.compare(dec.stdout, data)).toBe(0)
    // The one generic failure for a wrong context, and nothing left at --out.
    const wrong = await cli(words`decrypt ${token} --context table=patients --in ct.hge --out x`)
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toContain('decryption failed')
    expect(existsSync(p('x'))).toBe(false)
  })

  it('rewraps to the new primary after a rotation in the token, then decrypts with v1 retired', async () => {
    expect((await cli(['encrypt', ...token, ...ctx, '--in', 'plain.bin', '--out', 'old.hge'])).code).toBe(0)
    expect((await cli(['hsm', 'rotate', ...token])).code).toBe(0)
    expect((await cli(['rewrap', ...token, ...ctx, '--in', 'old.hge', '--out', 'new.hge'])).code).toBe(0)
    expect(await keyRefs('new.hge')).toEqual(['pkcs11:phi@v2'])
    // Header-only: the body bytes are identical.
    const oldBytes = readFileSync(p('old.hge'))
    const newBytes = readFileSync(p('new.hge'))
    expect(Buffer.compare(oldBytes.subarray(-data.length - 16), newBytes.subarray(-data.length - 16))).toBe(0)
    expect((await cli(['hsm', 'retire', '--version', '1', ...token])).code).toBe(0)
    const dec = await cli(['decrypt', ...token, ...ctx, '--in', 'new.hge'])
    expect(dec.code).toBe(0)
    expect(Buffer.compare(dec.stdout, data)).toBe(0)
    // The envelope still under the retired version: exit 3, naming the key reference.
    const stale = await cli(['decrypt', ...token, ...ctx, '--in', 'old.hge'])
    expect(stale.code).toBe(3)
    expect(stale.stderr).toContain('pkcs11:phi@v1')
  })

  it('wraps under both the keyring and the token; either opens it alone', async () => {
    expect((await cli(['keys', 'init', '--keyring', 'k.json'])).code).toBe(0)
    const both = ['--keyring', 'k.json', ...token]
    expect((await cli(['encrypt', ...both, ...ctx, '--in', 'plain.bin', '--out', 'dual.hge'])).code).toBe(0)
    expect(await keyRefs('dual.hge')).toEqual(['local:default@v1', 'pkcs11:phi@v2'])
    for (const keys of [['--keyring', 'k.json'], token]) {
      const dec = await cli(['decrypt', ...keys, ...ctx, '--in', 'dual.hge'])
      expect(dec.code).toBe(0)
      expect(Buffer.compare(dec.stdout, data)).toBe(0)
    }
  })

  it('maps a missing token, a wrong PIN and a missing key source to 3, 3 and 2, never printing the PIN', async () => {
    const badPin = await cli(['decrypt', ...token, ...ctx, '--in', 'ct.hge'], {
      SAFEGUARDS_HSM_PIN: '11112222',
    })
    expect(badPin.code).toBe(3)
    expect(badPin.stderr).toContain('ERR_PKCS11_LOGIN')
    expect(badPin.stderr).not.toContain('11112222')
    const noToken = await cli(words`encrypt ${tokenOptions('absent', 'phi')} --in plain.bin`)
    expect(noToken.code).toBe(3)
    expect(noToken.stderr).toContain('ERR_PKCS11_TOKEN_NOT_FOUND')
    const none = await cli(['encrypt', ...ctx, '--in', 'plain.bin'])
    expect(none.code).toBe(2)
    expect(none.stderr).toContain('--keyring')
    const noPin = await cli(['encrypt', ...token, '--in', 'plain.bin'], {})
    expect(noPin.code).toBe(2)
    expect(noPin.stderr).toContain('$SAFEGUARDS_HSM_PIN')
  })
})
