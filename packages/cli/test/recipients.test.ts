/** `safeguards identity`, `encrypt --recipient` and `decrypt --identity`: behaviour and exit codes. */
import { generateKeyPairSync } from 'node:crypto'
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import { type BinaryRunOptions, runBinary, words, workDir } from './helpers.js'

const { dir, p } = workDir('sg-cli-recipients-')
const cli = (argv: string[], opts: BinaryRunOptions = {}) => runBinary(dir, argv, opts)

const RESULT = new TextEncoder().encode('HbA1c 6.1 % (2026-12-06), reference < 5.7 %\n')
const CTX = ['--context', 'message=lab-42']

describe('safeguards identity', () => {
  it('new writes a 0600 private key and prints the public key; public prints it again', async () => {
    const made = await cli(['identity', 'new', '--out', 'a.key.pem'])
    expect(made.code).toBe(0)
    expect(statSync(p('a.key.pem')).mode & 0o777).toBe(0o600)
    expect(readFileSync(p('a.key.pem'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/)
    expect(made.stdout.toString()).toMatch(/^-----BEGIN PUBLIC KEY-----\n/)
    const id = /recipient id ([0-9a-f]{32})/.exec(made.stderr)?.[1]
    expect(id).toBeDefined()
    const shown = await cli(['identity', 'public', '--identity', 'a.key.pem'])
    expect(shown.code).toBe(0)
    expect(shown.stdout.toString()).toBe(made.stdout.toString())
    expect(shown.stderr).toContain(`recipient id ${id}`)
    // JWK, and a separate public file
    const jwk = await cli([
      'identity',
      'new',
      '--out',
      'j.key.json',
      '--public-out',
      'j.pub.json',
      '--format',
      'jwk',
    ])
    expect(jwk.code).toBe(0)
    expect(JSON.parse(readFileSync(p('j.pub.json'), 'utf8'))).toMatchObject({ kty: 'OKP', crv: 'X25519' })
    expect(JSON.parse(readFileSync(p('j.key.json'), 'utf8'))).toHaveProperty('d')
  })

  it('refuses to overwrite, a bad format, a world-readable identity', async () => {
    expect((await cli(['identity', 'new', '--out', 'a.key.pem'])).code).toBe(2)
    expect((await cli(['identity', 'new', '--out', 'z.pem', '--format', 'der'])).code).toBe(2)
    writeFileSync(p('open.key.pem'), readFileSync(p('a.key.pem')), { mode: 0o644 })
    chmodSync(p('open.key.pem'), 0o644)
    const r = await cli(['identity', 'public', '--identity', 'open.key.pem'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('chmod 600')
    expect((await cli(['identity', 'bogus'])).code).toBe(2)
  })
})

describe('safeguards encrypt --recipient / decrypt --identity', () => {
  beforeAll(async () => {
    for (const who of ['patient', 'partner', 'archive', 'stranger']) {
      const r = await cli(['identity', 'new', '--out', `${who}.key.pem`, '--public-out', `${who}.pub.pem`])
      expect(r.code).toBe(0)
    }
    // the partner's key made by OpenSSL-compatible tooling (node:crypto), given inline as JWK
    const { publicKey, privateKey } = generateKeyPairSync('x25519')
    writeFileSync(p('ext.key.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, {
      mode: 0o600,
    })
    writeFileSync(p('ext.pub.jwk'), JSON.stringify(publicKey.export({ format: 'jwk' })))
  })

  it('seals to three recipients (files and inline JWK); each opens; a fourth gets exit 3', async () => {
    const inlineJwk = readFileSync(p('ext.pub.jwk'), 'utf8')
    const enc = await cli(
      [
        'encrypt',
        '--recipient',
        'patient.pub.pem',
        '--recipient',
        'archive.pub.pem',
        '--recipient',
        inlineJwk,
        ...CTX,
        '--out',
        'lab.hge',
      ],
      { stdin: RESULT },
    )
    expect(enc.code, enc.stderr).toBe(0)
    const inspect = await cli(['inspect', '--json', '--in', 'lab.hge'])
    expect(inspect.stdout.toString()).toContain('"hpke:')
    for (const key of ['patient.key.pem', 'archive.key.pem', 'ext.key.pem']) {
      const dec = await cli(['decrypt', '--identity', key, ...CTX, '--in', 'lab.hge'])
      expect(dec.code, `${key}: ${dec.stderr}`).toBe(0)
      expect(dec.stdout.toString()).toBe(new TextDecoder().decode(RESULT))
    }
    const stranger = await cli(['decrypt', '--identity', 'stranger.key.pem', ...CTX, '--in', 'lab.hge'])
    expect(stranger.code).toBe(3)
    expect(stranger.stderr).toContain('key unavailable: hpke:')
    // a wrong context or a flipped byte: exit 1, the one message
    const wrong = await cli(words`decrypt --identity patient.key.pem --context message=lab-43 --in lab.hge`)
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toBe('safeguards decrypt: decryption failed\n')
    const bad = readFileSync(p('lab.hge'))
    bad[bad.length - 5] = (bad[bad.length - 5] as number) ^ 1
    writeFileSync(p('bad.hge'), bad)
    const flipped = await cli(['decrypt', '--identity', 'patient.key.pem', ...CTX, '--in', 'bad.hge'])
    expect(flipped.code).toBe(1)
  })

  it('rewrap re-seals to a new recipient set; a keyring and recipients side by side', async () => {
    const moved = await cli([
      'rewrap',
      '--identity',
      'archive.key.pem',
      '--recipient',
      'archive.pub.pem',
      '--recipient',
      'partner.pub.pem',
      ...CTX,
      '--in',
      'lab.hge',
      '--out',
      'lab2.hge',
    ])
    expect(moved.code, moved.stderr).toBe(0)
    expect((await cli(['decrypt', '--identity', 'partner.key.pem', ...CTX, '--in', 'lab2.hge'])).code).toBe(0)
    expect((await cli(['decrypt', '--identity', 'patient.key.pem', ...CTX, '--in', 'lab2.hge'])).code).toBe(3)

    expect((await cli(['keys', 'init', '--keyring', 'k.json'])).code).toBe(0)
    const both = await cli(
      ['encrypt', '--keyring', 'k.json', '--recipient', 'patient.pub.pem', '--out', 'both.hge'],
      {
        stdin: RESULT,
      },
    )
    expect(both.code, both.stderr).toBe(0)
    expect((await cli(['decrypt', '--keyring', 'k.json', '--in', 'both.hge'])).stdout.toString()).toContain(
      'HbA1c',
    )
    expect(
      (await cli(['decrypt', '--identity', 'patient.key.pem', '--in', 'both.hge'])).stdout.toString(),
    ).toContain('HbA1c')
  })

  it('usage errors: a malformed or private key as --recipient, options on the wrong command', async () => {
    writeFileSync(p('junk.pem'), 'not a key')
    const junk = await cli(['encrypt', '--recipient', 'junk.pem'], { stdin: RESULT })
    expect(junk.code).toBe(2)
    expect(junk.stderr).toContain('--recipient')
    expect((await cli(['encrypt', '--recipient', 'patient.key.pem'], { stdin: RESULT })).code).toBe(2)
    expect((await cli(['encrypt', '--recipient', 'missing.pem'], { stdin: RESULT })).code).toBe(74)
    expect((await cli(['encrypt', '--identity', 'patient.key.pem'], { stdin: RESULT })).code).toBe(2)
    expect((await cli(['decrypt', '--recipient', 'patient.pub.pem', '--in', 'lab.hge'])).code).toBe(2)
    expect(
      (
        await cli(['encrypt', '--recipient', 'patient.pub.pem', '--recipient', 'patient.pub.pem'], {
          stdin: RESULT,
        })
      ).code,
    ).toBe(2)
    const help = await cli(['encrypt', '--help'])
    expect(help.stdout.toString()).toContain('--recipient PUBKEY')
  })
})
