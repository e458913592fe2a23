import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../src/index.js'
import { fakeIO, filesIn, words } from './helpers.js'

let root = ''
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'sg-cli-backup-'))
  mkdirSync(join(root, 'src/db'), { recursive: true })
  writeFileSync(join(root, 'src/db/dump.sql'), 'CREATE TABLE t (id int);\n')
  writeFileSync(join(root, 'src/readme.txt'), 'nightly\n')
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

async function cli(argv: string[], opts: { tty?: boolean; env?: Record<string, string> } = {}) {
  const f = fakeIO('', opts)
  f.io.cwd = root
  const code = await runCli(argv, f.io)
  return { code, stdout: f.stdout(), stderr: f.stderr() }
}

let n = 0
async function freshBag(signed = true): Promise<string> {
  const bag = `bag${n++}`
  const args = ['backup', 'create', 'src', bag]
  if (signed) args.push('--sign-key', 'k.private.jwk')
  const r = await cli(args)
  expect(r.code, r.stderr).toBe(0)
  return bag
}

/** `backup verify --public-key` of a fresh signed bag from which `file` was deleted. */
async function verifyWithout(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const bag = await freshBag()
  unlinkSync(join(root, bag, file))
  return cli(words`backup verify ${bag} --public-key k.public.jwk`)
}

describe('safeguards backup', () => {
  it('keygen writes a private JWK (0600) and a public JWK, and refuses to overwrite', async () => {
    const r = await cli(['backup', 'keygen', 'k.private.jwk', 'k.public.jwk', '--kid', 'cli-test'])
    expect(r.code, r.stderr).toBe(0)
    expect(statSync(join(root, 'k.private.jwk')).mode & 0o777).toBe(0o600)
    expect(JSON.parse(readFileSync(join(root, 'k.public.jwk'), 'utf8'))).toMatchObject({
      kid: 'cli-test',
      kty: 'OKP',
    })
    expect(JSON.parse(readFileSync(join(root, 'k.public.jwk'), 'utf8')).d).toBeUndefined()
    const before = readFileSync(join(root, 'k.private.jwk'))
    const again = await cli(['backup', 'keygen', 'k.private.jwk', 'x.jwk'])
    expect(again.code).toBe(2)
    expect(again.stderr).toBe('safeguards backup: refusing to overwrite an existing key file\n')
    expect(Buffer.compare(readFileSync(join(root, 'k.private.jwk')), before)).toBe(0)
    expect(filesIn(root).filter((f) => f.includes('.tmp'))).toEqual([])
  })

  it('keygen into a missing folder: exit 74 naming the path, nothing written', async () => {
    const r = await cli(['backup', 'keygen', 'no-such-dir/k.jwk', 'no-such-dir/p.jwk'])
    expect(r.code).toBe(74)
    expect(r.stderr).toBe(
      `safeguards backup: cannot create a temporary file beside ${join(root, 'no-such-dir/k.jwk')} (ENOENT) (ERR_IO)\n`,
    )
    expect(filesIn(root).filter((f) => f.includes('.tmp'))).toEqual([])
  })

  it('create + verify: exit 0, JSON report with a schema version', async () => {
    const bag = await freshBag()
    const r = await cli(words`backup verify ${bag} --public-key k.public.jwk --require-signature --json`)
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(report).toMatchObject({ schemaVersion: 1, status: 'ok', exitCode: 0 })
    expect(report.attestation).toMatchObject({ verified: true, kid: 'cli-test', seq: 1 })
  })

  it('--previous chains the sequence; --state then refuses a rollback (exit 3)', async () => {
    const first = await freshBag()
    const second = `bag${n++}`
    expect(
      (await cli(['backup', 'create', 'src', second, '--sign-key', 'k.private.jwk', '--previous', first]))
        .code,
    ).toBe(0)
    const v = (bag: string) =>
      cli(['backup', 'verify', bag, '--public-key', 'k.public.jwk', '--state', 'state.json', '--json'])
    expect((await v(first)).code).toBe(0)
    const r2 = await v(second)
    expect(r2.code).toBe(0)
    expect(JSON.parse(r2.stdout).attestation.seq).toBe(2)
    const back = await v(first)
    expect(back.code).toBe(3)
    expect(back.stdout).toContain('E_ROLLBACK')
    expect(back.stderr).toContain('backup verification failed (exit 3) E_ROLLBACK=1')
  })

  it('tampering: exit 1, the finding names the file on stdout, the alert line on stderr has codes only', async () => {
    const r = await verifyWithout('data/readme.txt')
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('error E_MISSING "data/readme.txt"')
    expect(r.stderr).toContain('E_MISSING=1')
    expect(r.stderr).not.toContain('readme')
  })

  it('a missing signature is exit 3 when required', async () => {
    const bag = await freshBag(false)
    const strict = words`backup verify ${bag} --public-key k.public.jwk --require-signature`
    expect((await cli(strict)).code).toBe(3)
    expect((await cli(['backup', 'verify', bag])).code).toBe(0)
  })

  it('a stale backup is exit 4', async () => {
    const bag = await freshBag()
    const r = await cli(words`backup verify ${bag} --public-key k.public.jwk --max-age 0ms --json`)
    // createdAt is in the past by the time verify runs; with 0 ms allowed it is stale.
    expect(r.code).toBe(4)
  })

  it('a failing restore test is exit 5, a passing one exit 0', async () => {
    const bag = await freshBag()
    const ok = await cli(
      words`backup verify ${bag} --restore-test ${'grep -q "CREATE TABLE" "$SAFEGUARDS_DATA/db/dump.sql"'}`,
    )
    expect(ok.code, ok.stdout).toBe(0)
    const bad = await cli(['backup', 'verify', bag, '--restore-test', 'exit 3'])
    expect(bad.code).toBe(5)
  })

  it('a progress bar goes to stderr on a terminal', async () => {
    const bag = await freshBag()
    const r = await cli(['backup', 'verify', bag], { tty: true })
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/\[#+-*\] \d+% \d+\/\d+ files/)
  })

  it('a failed webhook still exits with the verification failure; prometheus textfile is written', async () => {
    const bag = await freshBag()
    writeFileSync(join(root, bag, 'data/extra.txt'), 'x')
    const env = { SAFEGUARDS_ALERT_SECRET: 'x'.repeat(32) }
    const r = await cli(
      ['backup', 'verify', bag, '--alert-webhook', 'http://127.0.0.1:9/hook', '--prometheus', 'backup.prom'],
      { env },
    )
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('alert sink webhook failed')
    expect(readFileSync(join(root, 'backup.prom'), 'utf8')).toContain('backup_verify_success{job="backup"} 0')
  })

  it('a delivered webhook carries no file names', async () => {
    const bodies: string[] = []
    const server = createServer((req, res) => {
      let body = ''
      req.on('data', (c) => {
        body += c
      })
      req.on('end', () => {
        bodies.push(body)
        res.end()
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    try {
      const bag = await freshBag()
      unlinkSync(join(root, bag, 'data/db/dump.sql'))
      const port = (server.address() as AddressInfo).port
      const r = await cli(['backup', 'verify', bag, '--alert-webhook', `http://127.0.0.1:${port}/h`], {
        env: { SAFEGUARDS_ALERT_SECRET: 'y'.repeat(40) },
      })
      expect(r.code).toBe(1)
      expect(bodies).toHaveLength(1)
      expect(bodies[0]).toContain('"E_MISSING":1')
      expect(bodies[0]).not.toContain('dump')
    } finally {
      await new Promise<void>((r) => server.close(() => r()))
    }
  })

  it('--keyring: create encrypts with @safeguards/envelope; verify proves decryptability (exit 5 otherwise)', async () => {
    expect((await cli(['keys', 'init', '--keyring', 'ring.json'])).code).toBe(0)
    expect((await cli(['keys', 'init', '--keyring', 'other-ring.json'])).code).toBe(0)
    const bag = `bag${n++}`
    const made = await cli(words`backup create src ${bag} --sign-key k.private.jwk --keyring ring.json`)
    expect(made.code, made.stderr).toBe(0)
    expect(readFileSync(join(root, bag, 'data/db/dump.sql')).includes('CREATE TABLE')).toBe(false)
    expect(readFileSync(join(root, bag, 'bag-info.txt'), 'utf8')).toContain(
      'Safeguards-Payload-Encryption: envelope',
    )
    const storage = await cli(
      words`backup verify ${bag} --public-key k.public.jwk --require-signature --json`,
    )
    expect(storage.code).toBe(0)
    expect(JSON.parse(storage.stdout).findings.map((f: { code: string }) => f.code)).toEqual(
      words`W_DECRYPTABILITY_UNCHECKED`,
    )
    const full = await cli(words`backup verify ${bag} --public-key k.public.jwk --keyring ring.json --json`)
    expect(full.code, full.stdout).toBe(0)
    expect(JSON.parse(full.stdout).findings).toEqual([])
    const wrong = await cli(['backup', 'verify', bag, '--keyring', 'other-ring.json'])
    expect(wrong.code).toBe(5)
    expect(wrong.stdout).toContain('E_NOT_DECRYPTABLE')
    expect((await cli(['backup', 'verify', bag, '--keyring', 'missing-ring.json'])).code).toBe(5)
    expect((await cli(['backup', 'verify', bag, '--master-env', 'X'])).code).toBe(2)
  })

  it('--digest checks only the named manifest (status partial)', async () => {
    const bag = await freshBag()
    const r = await cli(['backup', 'verify', bag, '--digest', 'sha256', '--json'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'partial', coverage: { algorithms: ['sha256'] } })
    expect((await cli(['backup', 'verify', bag, '--digest', 'crc32'])).code).toBe(2)
  })

  it('usage errors exit 2', async () => {
    expect((await cli(['backup'])).code).toBe(2)
    expect((await cli(['backup', 'verify'])).code).toBe(2)
    expect((await cli(['backup', 'verify', 'x', '--max-age', 'soon'])).code).toBe(2)
    expect((await cli(['backup', 'verify', 'x', '--alert-webhook', 'http://127.0.0.1/'])).code).toBe(2) // no secret
    expect((await cli(['backup', 'verify', 'x', '--public-key', 'missing.jwk'])).code).toBe(2)
    expect((await cli(['backup', 'create', 'src', 'out', '--sign-key', 'k.public.jwk'])).code).toBe(2) // not private
    expect((await cli(['backup', 'keygen', 'a', 'b', '--alg', 'HS256'])).code).toBe(2)
  })

  it('verify of something that is not a bag is exit 1', async () => {
    expect((await cli(['backup', 'verify', 'src'])).code).toBe(1)
  })

  it('verify of a path that does not exist is a usage error (exit 2) naming the path', async () => {
    for (const path of ['does-not-exist', 'src/readme.txt/below-a-file']) {
      const r = await cli(['backup', 'verify', path, '--json'])
      expect(r.code).toBe(2)
      expect(r.stderr).toContain(`${JSON.stringify(path)} does not exist`)
    }
  })

  it('--public-key alone requires the signature: a signed bag with attestation.jws deleted is exit 3', async () => {
    const bag = await freshBag()
    unlinkSync(join(root, bag, 'attestation.jws'))
    const r = await cli(words`backup verify ${bag} --public-key k.public.jwk`)
    expect(r.code).toBe(3)
    expect(r.stdout).toContain('error E_SIGNATURE_MISSING')
    expect(r.stdout).not.toContain('W_UNSIGNED')
    const json = await cli(['backup', 'verify', bag, '--public-key', 'k.public.jwk', '--json'])
    expect(json.code).toBe(3)
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'failed', exitCode: 3, attestation: null })
  })

  it('a signed bag verified without a key says the signature was not checked, not that it is unsigned', async () => {
    const bag = await freshBag()
    const r = await cli(['backup', 'verify', bag])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('warning W_SIGNATURE_UNVERIFIED (signature not checked: no key given)')
    expect(r.stdout).toMatch(/^ok: .*, signature not checked: no key given$/m)
    expect(r.stdout).not.toContain('not signed')
    const unsigned = await cli(['backup', 'verify', await freshBag(false)])
    expect(unsigned.code).toBe(0)
    expect(unsigned.stdout).toContain('warning W_UNSIGNED')
    expect(unsigned.stdout).toMatch(/^ok: .*, not signed$/m)
  })
})
