/**
 * `@safeguards/pkcs11` (and its native `pkcs11js`) is an optional peer of the CLI: a user who
 * never touches an HSM does not install or build it. These runs start the real CLI in a child
 * process whose module resolution hides the package (`scripts/test-support/hide-modules.mjs`
 * makes Node's own resolver fail as it does when the package is absent) and check that every
 * command that needs a token exits 3 ("key or token unavailable") with one line naming the package
 * to install, while keyring-only commands are unaffected.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const repoRoot = resolve(import.meta.dirname, '../../..')
const bin = resolve(import.meta.dirname, '../src/bin.ts')
const hook = resolve(repoRoot, 'scripts/test-support/hide-modules.mjs')
const dir = mkdtempSync(join(tmpdir(), 'sg-cli-optional-'))
const input = join(dir, 'in.txt')
writeFileSync(input, 'hello')

afterAll(() => rmSync(dir, { recursive: true, force: true }))

function cli(
  hide: string,
  args: string[],
  env: Record<string, string> = {},
): { status: number; stderr: string } {
  const r = spawnSync(
    process.execPath,
    ['--conditions=@safeguards/source', '--import', 'tsx', '--import', hook, bin, ...args],
    {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { ...process.env, SAFEGUARDS_HIDE_MODULES: hide, SAFEGUARDS_HSM_PIN: '', ...env },
    },
  )
  return { status: r.status ?? -1, stderr: r.stderr }
}

const token = ['--key-name', 'phi', '--token-label', 'keys', '--module', join(dir, 'no-such-lib.so')]
const MISSING =
  'the HSM token support is not installed: npm install @safeguards/pkcs11 (it builds the native pkcs11js)'

describe('the CLI without @safeguards/pkcs11 installed', () => {
  it.each([
    ['hsm list', ['hsm', 'list', ...token]],
    ['hsm rotate', ['hsm', 'rotate', ...token]],
    ['hsm check', ['hsm', 'check', ...token]],
    ['hsm list without the token options', ['hsm', 'list']],
    ['encrypt --key-name', ['encrypt', ...token, '--in', input]],
    ['decrypt --key-name', ['decrypt', ...token, '--in', input]],
    ['rewrap --key-name', ['rewrap', ...token, '--in', input]],
  ])('%s exits 3 with one line naming the package', (_, args) => {
    const r = cli('@safeguards/pkcs11', args)
    expect(r.stderr).toBe(`safeguards ${args[0]}: ${MISSING}\n`)
    expect(r.status).toBe(3)
  })

  it('a keyring-only command does not need it', () => {
    const keyring = join(dir, 'keyring.json')
    const r = cli('@safeguards/pkcs11', ['keys', 'init', '--keyring', keyring])
    expect(r.stderr).not.toContain('not installed')
    expect(r.status).toBe(0)
    const enc = cli('@safeguards/pkcs11', ['encrypt', '--keyring', keyring, '--in', input])
    expect(enc.stderr).toBe('')
    expect(enc.status).toBe(0)
  })

  it('without pkcs11js (the native binding) the token commands exit 3 naming pkcs11js', () => {
    const r = cli('pkcs11js', ['hsm', 'list', ...token], { SAFEGUARDS_HSM_PIN: '1234' })
    expect(r.stderr).toBe(
      'safeguards hsm: token unavailable: the pkcs11js native binding is not installed: npm install pkcs11js (ERR_PKCS11_MODULE)\n',
    )
    expect(r.status).toBe(3)
  })

  it('control: with the package installed, the same command reaches the token library', () => {
    const r = cli('', ['hsm', 'list', ...token], { SAFEGUARDS_HSM_PIN: '1234' })
    expect(r.stderr).toMatch(/^safeguards hsm: token unavailable: .*\(ERR_PKCS11_MODULE\)\n$/)
    expect(r.stderr).not.toContain('not installed')
    expect(r.status).toBe(3)
  })
})
