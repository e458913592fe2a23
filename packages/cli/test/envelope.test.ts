/** `safeguards keys|encrypt|decrypt|rewrap|inspect`: behaviour and exit codes. */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { createEnvelope, LocalKeyring } from '@safeguards/envelope'
import { describe, expect, it } from 'vitest'
import { type BinaryRunOptions, runBinary, workDir } from './helpers.js'

const { dir, p } = workDir('sg-cli-envelope-')
const cli = (argv: string[], opts: BinaryRunOptions = {}) => runBinary(dir, argv, opts)

const pattern = (n: number) => new Uint8Array(n).map((_, i) => (i * 13) & 0xff)

describe('safeguards keys', () => {
  it('init, rotate (staged and direct), promote, list --json, retire, destroy', async () => {
    expect((await cli(['keys', 'init', '--keyring', 'k1.json', '--name', 'patients'])).code).toBe(0)
    expect(statSync(p('k1.json')).mode & 0o777).toBe(0o600)
    expect((await cli(['keys', 'init', '--keyring', 'k1.json'])).code).toBe(2)
    const staged = await cli(['keys', 'rotate', '--stage', '--keyring', 'k1.json'])
    expect(staged.stdout.toString()).toContain('local:patients@v2 added (decrypt-only)')
    expect((await cli(['keys', 'promote', '--version', '2', '--keyring', 'k1.json'])).code).toBe(0)
    expect((await cli(['keys', 'rotate', '--keyring', 'k1.json'])).code).toBe(0)
    expect((await cli(['keys', 'retire', '--version', '1', '--keyring', 'k1.json'])).code).toBe(0)
    const list = await cli(['keys', 'list', '--json', '--keyring', 'k1.json'])
    const doc = JSON.parse(list.stdout.toString())
    expect(
      doc.keys.map((k: { version: number; state: string; retired: boolean }) => [
        k.version,
        k.state,
        k.retired,
      ]),
    ).toEqual([
      [1, 'disabled', true],
      [2, 'decrypt-only', false],
      [3, 'primary', false],
    ])
    expect(doc.keys[0]).toHaveProperty('createdAt')
    expect(doc.keys[0].usage).toMatchObject({ limit: '4294967296' })
    // destroy needs the explicit flag; never the primary
    expect((await cli(['keys', 'destroy', '--version', '1', '--keyring', 'k1.json'])).code).toBe(2)
    expect(
      (await cli(['keys', 'destroy', '--version', '3', '--allow-destroy', '--keyring', 'k1.json'])).code,
    ).toBe(2)
    expect(
      (await cli(['keys', 'destroy', '--version', '1', '--allow-destroy', '--keyring', 'k1.json'])).code,
    ).toBe(0)
    expect((await cli(['keys', 'bogus', '--keyring', 'k1.json'])).code).toBe(2)
    expect((await cli(['keys', 'list'])).code).toBe(2)
  })

  it('sealed keyrings need their secret (exit 3 without it)', async () => {
    const env = { SG_MASTER: 'm'.repeat(44) }
    expect(
      (await cli(['keys', 'init', '--keyring', 'sealed.json', '--master-env', 'SG_MASTER'], { env })).code,
    ).toBe(0)
    expect(readFileSync(p('sealed.json'), 'utf8')).not.toContain('"material"')
    expect(
      (await cli(['keys', 'list', '--keyring', 'sealed.json', '--master-env', 'SG_MASTER'], { env })).code,
    ).toBe(0)
    const wrong = await cli(['keys', 'list', '--keyring', 'sealed.json', '--master-env', 'SG_MASTER'], {
      env: { SG_MASTER: 'x'.repeat(44) },
    })
    expect(wrong.code).toBe(3)
    expect((await cli(['keys', 'list', '--keyring', 'sealed.json'])).code).toBe(3)
    expect((await cli(['keys', 'list', '--keyring', 'sealed.json', '--master-env', 'NOPE'])).code).toBe(2)
  })
})

describe('safeguards encrypt/decrypt/rewrap/inspect', () => {
  it('round-trips a file and stdin/stdout, rewraps after rotation, inspects without keys', async () => {
    await cli(['keys', 'init', '--keyring', 'k2.json'])
    const data = pattern(300_000)
    writeFileSync(p('plain.bin'), data)
    const ctx = ['--context', 'table=patients', '--context', 'id=42']
    expect(
      (await cli(['encrypt', '--keyring', 'k2.json', ...ctx, '--in', 'plain.bin', '--out', 'ct.hge'])).code,
    ).toBe(0)
    const dec = await cli(['decrypt', '--keyring', 'k2.json', ...ctx, '--in', 'ct.hge'])
    expect(dec.code).toBe(0)
    expect(Buffer.compare(dec.stdout, data)).toBe(0)
    // stdin → stdout
    const viaStdin = await cli(['encrypt', '--keyring', 'k2.json', ...ctx], { stdin: data })
    const back = await cli(['decrypt', '--keyring', 'k2.json', ...ctx], { stdin: viaStdin.stdout })
    expect(Buffer.compare(back.stdout, data)).toBe(0)

    const info = await cli(['inspect', '--in', 'ct.hge', '--json'])
    expect(JSON.parse(info.stdout.toString())).toMatchObject({
      formatVersion: 2,
      suite: 'AES-256-GCM/HKDF-Expand-SHA-256/commit',
      keys: [{ keyRef: 'local:default@v1' }],
      body: { plaintextLength: 300_000 },
    })
    expect((await cli(['inspect', '--in', 'ct.hge'])).stdout.toString()).toContain('key: local:default@v1')

    await cli(['keys', 'rotate', '--keyring', 'k2.json'])
    expect(
      (await cli(['rewrap', '--keyring', 'k2.json', ...ctx, '--in', 'ct.hge', '--out', 'ct2.hge'])).code,
    ).toBe(0)
    const info2 = JSON.parse((await cli(['inspect', '--in', 'ct2.hge', '--json'])).stdout.toString())
    expect(info2.keys[0].keyRef).toBe('local:default@v2')
    const a = readFileSync(p('ct.hge'))
    const b = readFileSync(p('ct2.hge'))
    expect(Buffer.compare(b.subarray(info2.headerLength), a.subarray(info2.headerLength))).toBe(0)
    await cli(['keys', 'retire', '--version', '1', '--keyring', 'k2.json'])
    expect(
      Buffer.compare(
        (await cli(['decrypt', '--keyring', 'k2.json', ...ctx, '--in', 'ct2.hge'])).stdout,
        data,
      ),
    ).toBe(0)
  })

  it('inspect --json tells format v1 from v2; decrypt reads v1, rewrap keeps it v1 (issue 17)', async () => {
    await cli(['keys', 'init', '--keyring', 'kv.json'])
    const data = pattern(5000)
    const ctx = { table: 'patients', id: '7' }
    const flags = ['--context', 'table=patients', '--context', 'id=7']
    const v1 = createEnvelope({ provider: await LocalKeyring.open(p('kv.json')), formatVersion: 1 })
    writeFileSync(p('v1.hge'), await v1.encrypt(data, ctx))
    const info = JSON.parse((await cli(['inspect', '--in', 'v1.hge', '--json'])).stdout.toString())
    expect(info).toMatchObject({ formatVersion: 1, suiteId: 1, suite: 'AES-256-GCM/HKDF-SHA-512/commit' })
    expect((await cli(['inspect', '--in', 'v1.hge'])).stdout.toString()).toContain('format: hge v1')
    const dec = await cli(['decrypt', '--keyring', 'kv.json', ...flags, '--in', 'v1.hge'])
    expect(Buffer.compare(dec.stdout, data)).toBe(0)
    await cli(['keys', 'rotate', '--keyring', 'kv.json'])
    expect(
      (await cli(['rewrap', '--keyring', 'kv.json', ...flags, '--in', 'v1.hge', '--out', 'v1r.hge'])).code,
    ).toBe(0)
    const rewrapped = JSON.parse((await cli(['inspect', '--in', 'v1r.hge', '--json'])).stdout.toString())
    expect(rewrapped).toMatchObject({ formatVersion: 1, keys: [{ keyRef: 'local:default@v2' }] })
    // what the CLI writes is v2
    writeFileSync(p('pv.bin'), data)
    await cli(['encrypt', '--keyring', 'kv.json', ...flags, '--in', 'pv.bin', '--out', 'v2.hge'])
    expect((await cli(['inspect', '--in', 'v2.hge'])).stdout.toString()).toContain('format: hge v2')
  })

  it('exit 1 with one generic message for every cryptographic failure; --out left absent', async () => {
    await cli(['keys', 'init', '--keyring', 'k3.json'])
    writeFileSync(p('p3.bin'), pattern(100_000))
    await cli(['encrypt', '--keyring', 'k3.json', '--context', 'a=1', '--in', 'p3.bin', '--out', 'c3.hge'])
    const ct = readFileSync(p('c3.hge'))
    const tampered = Buffer.from(ct)
    tampered[tampered.length - 100] = (tampered[tampered.length - 100] as number) ^ 1
    writeFileSync(p('t3.hge'), tampered)
    writeFileSync(p('trunc.hge'), ct.subarray(0, ct.length - 17))
    await cli(['keys', 'init', '--keyring', 'other.json'])
    const cases: Array<[string[], string]> = [
      [['--keyring', 'k3.json', '--context', 'a=2', '--in', 'c3.hge'], 'wrong context'],
      [['--keyring', 'k3.json', '--context', 'a=1', '--in', 't3.hge'], 'tampered'],
      [['--keyring', 'k3.json', '--context', 'a=1', '--in', 'trunc.hge'], 'truncated'],
      [['--keyring', 'other.json', '--context', 'a=1', '--in', 'c3.hge'], 'wrong keyring'],
    ]
    const messages = new Set<string>()
    for (const [args, what] of cases) {
      const r = await cli(['decrypt', ...args, '--out', 'out.bin'])
      expect(r.code, what).toBe(1)
      messages.add(r.stderr)
      expect(existsSync(p('out.bin')), what).toBe(false)
    }
    expect([...messages]).toEqual(['safeguards decrypt: decryption failed\n'])
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })

  it('exit 3 naming the key reference when the key is unavailable; 2 for malformed input; 74 for I/O', async () => {
    await cli(['keys', 'init', '--keyring', 'k4.json', '--name', 'lab'])
    writeFileSync(p('p4.bin'), pattern(10))
    await cli(['encrypt', '--keyring', 'k4.json', '--in', 'p4.bin', '--out', 'c4.hge'])
    await cli(['keys', 'rotate', '--keyring', 'k4.json'])
    await cli(['keys', 'retire', '--version', '1', '--keyring', 'k4.json'])
    const r = await cli(['decrypt', '--keyring', 'k4.json', '--in', 'c4.hge', '--out', 'o4.bin'])
    expect(r.code).toBe(3)
    expect(r.stderr).toContain('local:lab@v1')
    expect(existsSync(p('o4.bin'))).toBe(false)
    await cli(['keys', 'destroy', '--version', '1', '--allow-destroy', '--keyring', 'k4.json'])
    expect((await cli(['decrypt', '--keyring', 'k4.json', '--in', 'c4.hge'])).stderr).toContain(
      'local:lab@v1 (destroyed)',
    )

    writeFileSync(p('junk.bin'), 'this is not an envelope at all')
    expect((await cli(['decrypt', '--keyring', 'k4.json', '--in', 'junk.bin'])).code).toBe(2)
    expect((await cli(['inspect', '--in', 'junk.bin'])).code).toBe(2)
    expect((await cli(['decrypt', '--keyring', 'k4.json', '--in', 'missing.bin'])).code).toBe(74)
    expect((await cli(['encrypt', '--keyring', 'k4.json', '--context', 'novalue'])).code).toBe(2)
    expect(
      (await cli(['encrypt', '--keyring', 'k4.json', '--context', 'hge:x=1'], { stdin: pattern(3) })).code,
    ).toBe(2)
    expect((await cli(['encrypt', '--in', 'p4.bin'])).code).toBe(2)
    expect((await cli(['encrypt', '--keyring', 'nope.json', '--in', 'p4.bin'])).code).toBe(74)
  })
})
