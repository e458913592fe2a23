/**
 * `@safeguards/password` (argon2id through the native `argon2`) is an optional peer: only recovery
 * codes need it. The fixture runs TOTP enrollment and login through the public API in a child
 * process whose module resolution hides the package (`scripts/test-support/hide-modules.mjs` makes
 * Node's own resolver fail as it does when a package is not installed): TOTP works, and issuing
 * recovery codes throws the typed `MfaDependencyError` naming the package to install.
 */
import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const repoRoot = resolve(import.meta.dirname, '../../..')
const hook = resolve(repoRoot, 'scripts/test-support/hide-modules.mjs')
const fixture = resolve(import.meta.dirname, 'fixtures/totp-only.mjs')

function run(hide: string): unknown {
  const r = spawnSync(
    process.execPath,
    ['--conditions=@safeguards/source', '--import', 'tsx', '--import', hook, fixture],
    { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, SAFEGUARDS_HIDE_MODULES: hide } },
  )
  expect(r.stderr).toBe('')
  expect(r.status).toBe(0)
  return JSON.parse(r.stdout)
}

const missing = (dependency: string) => ({
  name: 'MfaDependencyError',
  code: 'ERR_MFA_DEPENDENCY',
  dependency,
  message: `recovery codes need ${dependency} (argon2id), which is not installed: npm install ${dependency}, or pass recoveryHasher`,
})

describe('mfa without its optional argon2 dependency', () => {
  it('TOTP works without @safeguards/password; recovery codes throw ERR_MFA_DEPENDENCY naming it', () => {
    expect(run('@safeguards/password')).toEqual({
      confirmed: true,
      verified: true,
      recovery: missing('@safeguards/password'),
    })
  })

  it('with @safeguards/password but no argon2, the error names argon2', () => {
    expect(run('argon2')).toEqual({ confirmed: true, verified: true, recovery: missing('argon2') })
  })

  it('control: with both installed, recovery codes are issued', () => {
    expect(run('')).toEqual({ confirmed: true, verified: true, recovery: { issued: 10 } })
  })
})
