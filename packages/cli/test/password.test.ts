import { parsePhc, verifyPassword } from '@safeguards/password'
import { describe, expect, it } from 'vitest'
import { runCli } from '../src/index.js'
import { fakeIO } from './helpers.js'

describe('safeguards password', () => {
  it('check: exit 0 for a good passphrase, 1 with the problems otherwise', async () => {
    const ok = fakeIO('violet kettle on the harbour wall\n')
    expect(await runCli(['password', 'check'], ok.io)).toBe(0)
    expect(ok.stdout()).toContain('ok')
    const bad = fakeIO('Password123\n')
    expect(await runCli(['password', 'check', '--mfa', '--json'], bad.io)).toBe(1)
    const doc = JSON.parse(bad.stdout()) as { ok: boolean; problems: { code: string }[] }
    expect(doc.ok).toBe(false)
    expect(doc.problems.map((p) => p.code)).toEqual(['blocklisted'])
    const ctx = fakeIO('jdoe-loves-the-harbour\n')
    expect(await runCli(['password', 'check', '--context', 'jdoe', '--context', 'jane@x.org'], ctx.io)).toBe(
      1,
    )
    expect(ctx.stdout()).toContain('context:')
    // The password never appears in the output.
    expect(bad.stdout() + bad.stderr()).not.toContain('Password123')
  })

  it('hash: prints an argon2id PHC string that verifies', async () => {
    const f = fakeIO('a long enough passphrase\n')
    expect(await runCli(['password', 'hash'], f.io)).toBe(0)
    const phc = f.stdout().trim()
    expect(parsePhc(phc)).toMatchObject({ algorithm: 'argon2id', memoryCost: 19456, timeCost: 2 })
    expect((await verifyPassword(phc, 'a long enough passphrase')).valid).toBe(true)
  })

  it('calibrate: prints costs at or above the floor', async () => {
    const f = fakeIO()
    expect(await runCli(['password', 'calibrate', '--target-ms', '1', '--json'], f.io)).toBe(0)
    expect(JSON.parse(f.stdout())).toMatchObject({ memoryCost: 19456, timeCost: 2, parallelism: 1 })
    const t = fakeIO()
    expect(await runCli(['password', 'calibrate', '--target-ms', '1'], t.io)).toBe(0)
    expect(t.stdout()).toMatch(/^memoryCost=19456 timeCost=2 parallelism=1 \(\d+ ms per hash\)/)
  })

  it('refuses bad usage with exit 2 and one line', async () => {
    const cases: [string[], string][] = [
      [['password', 'hash'], ''],
      [['password', 'hash', '--time-cost', 'x'], 'pw\n'],
      [['password', 'hash', '--memory-cost', '1024'], 'pw\n'],
      [['password', 'nope'], ''],
      [['password', 'calibrate', '--target-ms', '0'], ''],
      [['password', 'check', '--bogus'], 'pw\n'],
      [['password', 'check'], 'x'.repeat(70_000)],
    ]
    for (const [argv, stdin] of cases) {
      const f = fakeIO(stdin)
      expect(await runCli(argv, f.io), argv.join(' ')).toBe(2)
      expect(f.stderr().trim().split('\n')).toHaveLength(1)
    }
    const help = fakeIO()
    expect(await runCli(['password', '--help'], help.io)).toBe(0)
    expect(help.stdout()).toContain('calibrate')
  })
})
