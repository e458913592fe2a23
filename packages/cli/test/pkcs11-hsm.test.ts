/** `safeguards hsm …`: the lifecycle of a KEK in a SoftHSM2 token, and exit codes. */
import { expect, it } from 'vitest'
import { runCli } from '../src/index.js'
import { fakeIO, words } from './helpers.js'
import { describeHsm, PIN_ENV, SOFTHSM_MODULE, tokenOptions, USER_PIN, useSoftHsm } from './softhsm.js'

async function cli(argv: string[], env: Record<string, string> = PIN_ENV) {
  const f = fakeIO('', { env })
  const code = await runCli(argv, f.io)
  return { code, stdout: f.stdout(), stderr: f.stderr() }
}

const base = tokenOptions('cli-hsm', 'patients')

describeHsm('safeguards hsm', () => {
  const hsm = useSoftHsm(['cli-hsm'])

  it('rotates (staged and direct), promotes, retires, destroys and lists a KEK in the token', async () => {
    expect((await cli(['hsm', 'list', ...base])).stdout).toBe('')
    const first = await cli(['hsm', 'rotate', ...base])
    expect(first.code).toBe(0)
    expect(first.stdout).toContain('pkcs11:patients@v1 generated in token "cli-hsm" (primary)')
    expect((await cli(['hsm', 'rotate', '--stage', ...base])).stdout).toContain('(decrypt-only)')
    expect((await cli(['hsm', 'promote', '--version', '2', ...base])).stdout).toContain(
      'pkcs11:patients@v2 primary',
    )
    expect((await cli(['hsm', 'check', ...base])).stdout).toContain(
      'ok: wrapped and unwrapped under pkcs11:patients@v2',
    )
    expect((await cli(['hsm', 'retire', '--version', '1', ...base])).stdout).toContain(
      'pkcs11:patients@v1 retired',
    )
    expect((await cli(['hsm', 'enable', '--version', '1', ...base])).code).toBe(0)
    expect((await cli(['hsm', 'disable', '--version', '1', ...base])).code).toBe(0)
    const refused = await cli(['hsm', 'destroy', '--version', '1', ...base])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('--allow-destroy')
    expect((await cli(['hsm', 'destroy', '--version', '1', '--allow-destroy', ...base])).code).toBe(0)
    const list = await cli(['hsm', 'list', '--json', ...base])
    const doc = JSON.parse(list.stdout)
    expect(doc.token.label).toBe('cli-hsm')
    expect(doc.keys.map((k: { version: number; state: string }) => `${k.version}:${k.state}`)).toEqual([
      '1:destroyed',
      '2:primary',
    ])
    const serial = hsm.serials.get('cli-hsm') as string
    const bySerial = await cli(
      words`hsm list --module ${SOFTHSM_MODULE} --token-serial ${serial} --key-name patients`,
    )
    expect(bySerial.stdout).toContain('pkcs11:patients@v2\tprimary')
  })

  it('maps forbidden transitions to 2 and token, PIN and library failures to 3, without printing the PIN', async () => {
    const primary = await cli(['hsm', 'retire', '--version', '2', ...base])
    expect(primary.code).toBe(2)
    expect(primary.stderr).toContain('primary')
    const badPin = await cli(['hsm', 'list', ...base], { SAFEGUARDS_HSM_PIN: '99999999' })
    expect(badPin.code).toBe(3)
    expect(badPin.stderr).toContain('ERR_PKCS11_LOGIN')
    expect(badPin.stderr + badPin.stdout).not.toContain('99999999')
    const noToken = await cli(words`hsm list ${base.slice(0, 2)} --token-label nope --key-name x`)
    expect(noToken.code).toBe(3)
    expect(noToken.stderr).toContain('ERR_PKCS11_TOKEN_NOT_FOUND')
    const noModule = await cli(['hsm', 'list', ...base.slice(2), '--module', '/nonexistent.so'])
    expect(noModule.code).toBe(3)
    expect(noModule.stderr).toContain('ERR_PKCS11_MODULE')
  })

  it('refuses a PIN on the command line, missing options and bad versions with usage errors', async () => {
    expect((await cli(['hsm', 'list', ...base, '--pin', USER_PIN])).code).toBe(2)
    expect((await cli(['hsm', 'list', ...base], {})).stderr).toContain('$SAFEGUARDS_HSM_PIN')
    expect((await cli(['hsm', 'list', ...base, '--pin-env', 'MY_PIN'], { MY_PIN: USER_PIN })).code).toBe(0)
    expect(
      (await cli(['hsm', 'list', '--token-label', 'cli-hsm', '--key-name', 'patients'])).stderr,
    ).toContain('--module')
    expect(
      (
        await cli(['hsm', 'list', '--token-label', 'cli-hsm', '--key-name', 'patients'], {
          SAFEGUARDS_PKCS11_MODULE: SOFTHSM_MODULE,
          SAFEGUARDS_HSM_PIN: USER_PIN,
        })
      ).code,
    ).toBe(0)
    expect((await cli(['hsm', 'list', ...base, '--token-serial', 'x'])).code).toBe(2)
    expect((await cli(['hsm', 'promote', '--version', '0', ...base])).code).toBe(2)
    expect((await cli(['hsm', 'promote', ...base])).code).toBe(2)
    expect((await cli(['hsm', 'list', ...base.slice(0, 4), '--key-name', 'bad name'])).code).toBe(2)
    expect((await cli(['hsm', 'frobnicate', ...base])).code).toBe(2)
    expect((await cli(['hsm', '--help'])).code).toBe(0)
  })
})
