import { execFileSync } from 'node:child_process'
import {
  chmodSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { manualClock } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import {
  createBag,
  emptyVerifyState,
  generateSigningKeyPair,
  importSigningKey,
  importVerificationKeys,
  REPORT_SCHEMA_VERSION,
  verifyBag,
} from '../src/index.js'
import {
  codes,
  keys,
  rewriteManifests,
  signedBag,
  streamingTestCipher,
  T0,
  tempDir,
  testCipher,
  writeTree,
} from './helpers.js'

const at = (ms: number) => ({ clock: manualClock(ms) })

describe('createBag + verifyBag: a clean signed bag', () => {
  it('is a BagIt 1.0 bag with both manifests, tag manifests and bag-info, and verifies', async () => {
    const { bag, publicKeys } = await signedBag()
    expect(readFileSync(join(bag, 'bagit.txt'), 'utf8')).toBe(
      'BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n',
    )
    const info = readFileSync(join(bag, 'bag-info.txt'), 'utf8')
    expect(info).toMatch(/^Bagging-Date: 2026-11-22$/m)
    expect(info).toMatch(/^Payload-Oxum: \d+\.3$/m)
    for (const f of [
      'manifest-sha512.txt',
      'manifest-sha256.txt',
      'tagmanifest-sha512.txt',
      'tagmanifest-sha256.txt',
    ])
      expect(statSync(join(bag, f)).isFile()).toBe(true)
    // Cross-check one digest with coreutils, the way any bag tool would.
    const line = readFileSync(join(bag, 'manifest-sha256.txt'), 'utf8')
      .split('\n')
      .find((l) => l.endsWith('data/db/dump.sql'))
    const sum = execFileSync('sha256sum', [join(bag, 'data/db/dump.sql')], { encoding: 'utf8' }).split(' ')[0]
    expect(line?.split('  ')[0]).toBe(sum)
    const { report } = await verifyBag(bag, {
      publicKeys,
      requireSignature: true,
      maxAgeMs: 86_400_000,
      ...at(T0 + 1000),
    })
    expect(report.findings).toEqual([])
    expect(report.status).toBe('ok')
    expect(report.exitCode).toBe(0)
    expect(report.schemaVersion).toBe(REPORT_SCHEMA_VERSION)
    expect(report.attestation).toMatchObject({ verified: true, kid: 'backup-test-1', alg: 'Ed25519', seq: 1 })
    expect(report.coverage).toMatchObject({ filesVerified: 3, filesTotal: 3, complete: true, ratio: 1 })
    expect(report.stages.map((s) => s.status)).toEqual([
      'passed',
      'passed',
      'passed',
      'passed',
      'skipped',
      'passed',
      'skipped',
    ])
  })

  it('ES256 keys work too, and a JWK Set selects the key by kid', async () => {
    const ec = await generateSigningKeyPair('ES256', 'ec-1')
    const ed = await generateSigningKeyPair('EdDSA', 'ed-1')
    const { bag } = await signedBag(undefined, { signingKey: await importSigningKey(ec.privateJwk) })
    const publicKeys = await importVerificationKeys({ keys: [ed.publicJwk, ec.publicJwk] })
    const { report } = await verifyBag(bag, { publicKeys, requireSignature: true })
    expect(report.exitCode).toBe(0)
    expect(report.attestation?.alg).toBe('ES256')
  })
})

describe('tampering with payload files', () => {
  it('a missing file fails completeness (exit 1)', async () => {
    const { bag, publicKeys } = await signedBag()
    unlinkSync(join(bag, 'data/notes/readme.txt'))
    const { report } = await verifyBag(bag, { publicKeys, requireSignature: true })
    expect(codes(report)).toEqual(['E_MISSING'])
    expect(report.exitCode).toBe(1)
    expect(report.findings[0]?.path).toBe('data/notes/readme.txt')
  })

  it('an extra file fails completeness (exit 1)', async () => {
    const { bag, publicKeys } = await signedBag()
    writeFileSync(join(bag, 'data/planted.sql'), 'DROP TABLE t;')
    const { report } = await verifyBag(bag, { publicKeys, requireSignature: true })
    expect(codes(report)).toEqual(['E_EXTRA'])
    expect(report.exitCode).toBe(1)
  })

  it('a renamed file is missing + extra', async () => {
    const { bag, publicKeys } = await signedBag()
    renameSync(join(bag, 'data/notes/readme.txt'), join(bag, 'data/notes/other.txt'))
    const { report } = await verifyBag(bag, { publicKeys })
    expect(codes(report).sort()).toEqual(['E_EXTRA', 'E_MISSING'])
  })

  it('a case-only rename fails', async () => {
    const { bag, publicKeys } = await signedBag()
    renameSync(join(bag, 'data/notes/readme.txt'), join(bag, 'data/notes/README.txt'))
    const { report } = await verifyBag(bag, { publicKeys })
    expect(codes(report).sort()).toEqual(['E_EXTRA', 'E_MISSING'])
    expect(report.exitCode).toBe(1)
  })

  it('an NFC → NFD-only rename fails (matched after NFC, reported as renamed)', async () => {
    const nfcName = 'N\u00fa\u00f1ez.txt'
    const nfdName = nfcName.normalize('NFD')
    expect(nfdName).not.toBe(nfcName)
    const { bag, publicKeys } = await signedBag({ [nfcName]: 'patient list' })
    renameSync(join(bag, 'data', nfcName), join(bag, 'data', nfdName))
    const { report } = await verifyBag(bag, { publicKeys })
    expect(codes(report)).toEqual(['E_RENAMED_NORMALIZATION'])
    expect(report.exitCode).toBe(1)
  })

  it('NFC and NFD twins side by side are a name collision', async () => {
    const name = 'caf\u00e9.txt'
    const { bag, publicKeys } = await signedBag({ [name]: 'a' })
    writeFileSync(join(bag, 'data', name.normalize('NFD')), 'b')
    const { report } = await verifyBag(bag, { publicKeys })
    expect(codes(report)).toContain('E_NAME_COLLISION')
    expect(report.exitCode).toBe(1)
  })

  it('one flipped bit with size and mtime restored is caught by the digests', async () => {
    const { bag, publicKeys } = await signedBag()
    const p = join(bag, 'data/db/dump.sql')
    const before = statSync(p)
    const bytes = readFileSync(p)
    bytes[5] = (bytes[5] as number) ^ 0x01
    writeFileSync(p, bytes)
    utimesSync(p, before.atime, before.mtime)
    expect(statSync(p).size).toBe(before.size)
    expect(Math.round(statSync(p).mtimeMs)).toBe(Math.round(before.mtimeMs))
    const { report } = await verifyBag(bag, { publicKeys, requireSignature: true })
    expect(codes(report)).toEqual(['E_DIGEST_MISMATCH', 'E_DIGEST_MISMATCH'])
    expect(report.findings.map((f) => f.detail).sort()).toEqual(['sha256', 'sha512'])
    expect(report.exitCode).toBe(1)
  })

  it('manifests rewritten to match tampered data fail on the signature (exit 3)', async () => {
    const { bag, publicKeys } = await signedBag()
    writeFileSync(join(bag, 'data/db/dump.sql'), 'DROP TABLE patients;')
    rewriteManifests(bag)
    // A plain BagIt validator would now accept the bag:
    const plain = await verifyBag(bag)
    expect(plain.report.exitCode).toBe(0)
    const { report } = await verifyBag(bag, { publicKeys, requireSignature: true })
    expect(codes(report)).toEqual(['E_TAG_MANIFEST_MISMATCH', 'E_TAG_MANIFEST_MISMATCH'])
    expect(report.exitCode).toBe(3)
    // Fail closed: nothing after the signature ran.
    expect(report.stages.filter((s) => s.status === 'not-run').map((s) => s.stage)).toEqual([
      'completeness',
      'integrity',
      'decryptability',
      'freshness',
      'restore',
    ])
  })

  it('payload manifests rewritten but tag manifests left alone also fail on the signature', async () => {
    const { bag, publicKeys } = await signedBag()
    writeFileSync(join(bag, 'data/db/dump.sql'), 'DROP TABLE patients;')
    rewriteManifests(bag, false)
    const { report } = await verifyBag(bag, { publicKeys, requireSignature: true })
    expect(codes(report)).toEqual([
      'E_TAG_FILE_MISMATCH',
      'E_TAG_FILE_MISMATCH',
      'E_TAG_FILE_MISMATCH',
      'E_TAG_FILE_MISMATCH',
    ])
    expect(report.exitCode).toBe(3)
  })

  it('removing the attestation fails when a signature is required, warns otherwise', async () => {
    const { bag, publicKeys } = await signedBag()
    unlinkSync(join(bag, 'attestation.jws'))
    const strict = await verifyBag(bag, { publicKeys, requireSignature: true })
    expect(codes(strict.report)).toEqual(['E_SIGNATURE_MISSING'])
    expect(strict.report.exitCode).toBe(3)
    const lax = await verifyBag(bag)
    expect(lax.report.exitCode).toBe(0)
    expect(lax.report.findings.map((f) => f.code)).toContain('W_UNSIGNED')
  })

  it('giving a key requires a valid signature by it: a removed attestation fails without requireSignature', async () => {
    const { bag, publicKeys } = await signedBag()
    unlinkSync(join(bag, 'attestation.jws'))
    const { report } = await verifyBag(bag, { publicKeys })
    expect(codes(report)).toEqual(['E_SIGNATURE_MISSING'])
    expect(report.findings.map((f) => f.code)).not.toContain('W_UNSIGNED')
    expect(report.exitCode).toBe(3)
    expect(report.status).toBe('failed')
    // requireSignature: false does not switch it off; an empty key list is a mistake, not "no key".
    const stillStrict = await verifyBag(bag, { publicKeys, requireSignature: false })
    expect(codes(stillStrict.report)).toEqual(['E_SIGNATURE_MISSING'])
    await expect(verifyBag(bag, { publicKeys: [] })).rejects.toBeInstanceOf(TypeError)
  })

  it('a signed bag verified without a key: "signature not checked: no key given", not "unsigned"', async () => {
    const { bag } = await signedBag()
    const { report } = await verifyBag(bag)
    expect(report.exitCode).toBe(0)
    expect(report.findings.map((f) => f.code)).not.toContain('W_UNSIGNED')
    expect(report.findings).toContainEqual({
      code: 'W_SIGNATURE_UNVERIFIED',
      severity: 'warning',
      stage: 'signature',
      detail: 'signature not checked: no key given',
    })
    expect(report.attestation).toMatchObject({ verified: false })
  })

  it('without a key the attestation is still parsed: a malformed or alg "none" one fails (exit 3)', async () => {
    const { bag, attestation } = await signedBag()
    const [header, payload, signature] = attestation.split('.') as [string, string, string]
    const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')
    const decoded = JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>
    for (const [jws, code] of [
      ['not a jws', 'E_ATTESTATION_MALFORMED'],
      [
        `${header}.${b64({ typ: 'safeguards.backup.attestation', v: 1 })}.${signature}`,
        'E_ATTESTATION_MALFORMED',
      ],
      [`${b64({ ...decoded, typ: 'JWT' })}.${payload}.${signature}`, 'E_ATTESTATION_MALFORMED'],
      [`${b64({ ...decoded, alg: 'none' })}.${payload}.`, 'E_ALGORITHM_NOT_ALLOWED'],
    ] as const) {
      writeFileSync(join(bag, 'attestation.jws'), jws)
      const { report } = await verifyBag(bag)
      expect(codes(report), jws).toEqual([code])
      expect(report.exitCode).toBe(3)
    }
  })

  it('an attestation from an unknown key fails (exit 3)', async () => {
    const { bag } = await signedBag()
    const other = await generateSigningKeyPair('EdDSA', 'someone-else')
    const { report } = await verifyBag(bag, { publicKeys: await importVerificationKeys(other.publicJwk) })
    expect(codes(report)).toEqual(['E_UNKNOWN_KEY'])
    expect(report.exitCode).toBe(3)
  })

  it('an algorithm outside the allow-list is refused before any key is used', async () => {
    const { bag, publicKeys } = await signedBag()
    const { report } = await verifyBag(bag, { publicKeys, algorithms: ['ES256'] })
    expect(codes(report)).toEqual(['E_ALGORITHM_NOT_ALLOWED'])
    expect(report.exitCode).toBe(3)
  })
})

describe('unsafe paths and symlinks', () => {
  const unsignedBag = (manifestPaths: string[]): string => {
    const root = tempDir('paths')
    writeTree(root, {
      'bagit.txt': 'BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n',
      'data/a.txt': 'a',
    })
    const sha = 'ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb'
    writeFileSync(join(root, 'manifest-sha256.txt'), manifestPaths.map((p) => `${sha}  ${p}\n`).join(''))
    return root
  }
  for (const [name, path] of [
    ['dot-dot', 'data/../../../etc/passwd'],
    ['absolute', '/etc/passwd'],
    ['home', '~/secret'],
    ['home of another user', '~root/.ssh/id_rsa'],
    ['backslash', 'data\\..\\..\\x'],
    ['drive letter', 'C:/Windows/win.ini'],
    ['percent-encoded newline (1.0)', 'data/a%0A.txt'],
    ['outside the payload', 'bagit.txt'],
  ] as const) {
    it(`refuses ${name}`, async () => {
      const { report } = await verifyBag(unsignedBag(['data/a.txt', path]))
      expect(codes(report)).toEqual(['E_UNSAFE_PATH'])
      expect(report.exitCode).toBe(1)
      expect(report.stages[1]?.status).toBe('not-run')
    })
  }

  it('a symlink in the payload fails, and is never followed (its target is a FIFO that would block a read)', async () => {
    const { bag, publicKeys } = await signedBag()
    const outside = tempDir('outside')
    const fifo = join(outside, 'fifo')
    execFileSync('mkfifo', [fifo])
    unlinkSync(join(bag, 'data/notes/readme.txt'))
    symlinkSync(fifo, join(bag, 'data/notes/readme.txt'))
    const { report } = await verifyBag(bag, { publicKeys, requireSignature: true })
    expect(codes(report)).toEqual(['E_UNEXPECTED_TYPE'])
    expect(report.exitCode).toBe(1)
  })

  it('a symlinked payload directory fails', async () => {
    const { bag, publicKeys } = await signedBag()
    const outside = tempDir('outside')
    writeTree(outside, { 'readme.txt': 'nightly export\n' })
    rmSync(join(bag, 'data/notes'), { recursive: true })
    symlinkSync(outside, join(bag, 'data/notes'))
    const { report } = await verifyBag(bag, { publicKeys })
    expect(codes(report)).toContain('E_UNEXPECTED_TYPE')
    expect(report.exitCode).toBe(1)
  })

  it('createBag refuses a source with a symlink', async () => {
    const root = tempDir('src')
    writeTree(root, { 'src/a.txt': 'a' })
    symlinkSync('/etc/passwd', join(root, 'src/link'))
    await expect(createBag(join(root, 'src'), join(root, 'bag'))).rejects.toMatchObject({
      code: 'ERR_BACKUP_SOURCE',
    })
  })

  it('createBag refuses a non-empty destination', async () => {
    const root = tempDir('dst')
    writeTree(root, { 'src/a.txt': 'a', 'bag/x': 'x' })
    await expect(createBag(join(root, 'src'), join(root, 'bag'))).rejects.toMatchObject({
      code: 'ERR_BACKUP_DESTINATION',
    })
  })
})

describe('freshness (RPO)', () => {
  it('a backup older than maxAge is stale (exit 4)', async () => {
    const { bag, publicKeys } = await signedBag()
    const { report } = await verifyBag(bag, { publicKeys, maxAgeMs: 86_400_000, ...at(T0 + 2 * 86_400_000) })
    expect(codes(report)).toEqual(['E_STALE'])
    expect(report.exitCode).toBe(4)
    expect(report.freshness).toMatchObject({ signed: true, ageMs: 2 * 86_400_000 })
  })

  it('a timestamp in the future fails', async () => {
    const { bag, publicKeys } = await signedBag()
    const { report } = await verifyBag(bag, { publicKeys, maxAgeMs: 86_400_000, ...at(T0 - 3_600_000) })
    expect(codes(report)).toEqual(['E_FUTURE_TIMESTAMP'])
    expect(report.exitCode).toBe(4)
  })

  it('an unsigned bag falls back to Bagging-Date, with a warning', async () => {
    const { bag } = await signedBag()
    unlinkSync(join(bag, 'attestation.jws'))
    const { report } = await verifyBag(bag, { maxAgeMs: 86_400_000, ...at(T0 + 3 * 86_400_000) })
    expect(codes(report)).toEqual(['E_STALE'])
    expect(report.findings.map((f) => f.code)).toContain('W_FRESHNESS_UNSIGNED')
  })
})

describe('attestation chain: replay and rollback', () => {
  it('accepts seq 1 → 2, then refuses the older bag (rollback) and a forked seq 2 (replay)', async () => {
    const root = tempDir('chain')
    const { signingKey, publicKeys } = await keys()
    writeTree(root, { 's1/a.txt': 'one', 's2/a.txt': 'two', 's3/a.txt': 'fork' })
    const b1 = await createBag(join(root, 's1'), join(root, 'b1'), {
      signingKey,
      backupSetId: 'nightly',
      ...at(T0),
    })
    const b2 = await createBag(join(root, 's2'), join(root, 'b2'), {
      signingKey,
      previousAttestation: b1.attestation as string,
      ...at(T0 + 86_400_000),
    })
    expect(b2.seq).toBe(2)
    const fork = await createBag(join(root, 's3'), join(root, 'b3'), {
      signingKey,
      previousAttestation: b1.attestation as string,
      ...at(T0 + 86_400_000),
    })
    let state = emptyVerifyState()
    const r1 = await verifyBag(b1.bagDir, { publicKeys, state })
    expect(r1.report.exitCode).toBe(0)
    state = r1.state
    const r2 = await verifyBag(b2.bagDir, { publicKeys, state })
    expect(r2.report.exitCode).toBe(0)
    state = r2.state
    expect(state.chains.nightly?.seq).toBe(2)
    const back = await verifyBag(b1.bagDir, { publicKeys, state })
    expect(codes(back.report)).toEqual(['E_ROLLBACK'])
    expect(back.report.exitCode).toBe(3)
    const replay = await verifyBag(fork.bagDir, { publicKeys, state })
    expect(codes(replay.report)).toEqual(['E_REPLAY'])
    expect(replay.report.exitCode).toBe(3)
    // The same bag verified again is fine (idempotent nightly re-runs).
    expect((await verifyBag(b2.bagDir, { publicKeys, state })).report.exitCode).toBe(0)
  })

  it('a next bag whose prev does not match the last accepted one breaks the chain', async () => {
    const root = tempDir('chain2')
    const { signingKey, publicKeys } = await keys()
    writeTree(root, { 's1/a.txt': '1', 'x1/a.txt': 'x', 's2/a.txt': '2' })
    const b1 = await createBag(join(root, 's1'), join(root, 'b1'), { signingKey, ...at(T0) })
    const x1 = await createBag(join(root, 'x1'), join(root, 'x1b'), { signingKey, ...at(T0) })
    const b2 = await createBag(join(root, 's2'), join(root, 'b2'), {
      signingKey,
      previousAttestation: x1.attestation as string,
      ...at(T0 + 1000),
    })
    const { state } = await verifyBag(b1.bagDir, { publicKeys })
    const { report } = await verifyBag(b2.bagDir, { publicKeys, state })
    expect(codes(report)).toEqual(['E_CHAIN_BROKEN'])
  })
})

describe('decryptability', () => {
  it('an encrypted bag verifies without keys (ciphertext manifests) and decrypts with the cipher', async () => {
    const cipher = testCipher()
    const { bag, publicKeys } = await signedBag(undefined, { cipher })
    expect(readFileSync(join(bag, 'data/db/dump.sql'), 'utf8')).not.toContain('CREATE TABLE')
    const storage = await verifyBag(bag, { publicKeys, requireSignature: true })
    expect(storage.report.exitCode).toBe(0)
    expect(storage.report.findings.map((f) => f.code)).toEqual(['W_DECRYPTABILITY_UNCHECKED'])
    const full = await verifyBag(bag, { publicKeys, requireSignature: true, cipher })
    expect(full.report.findings).toEqual([])
    expect(full.report.bag.encrypted).toBe(true)
  })

  it('streaming ciphers are used when present', async () => {
    const cipher = streamingTestCipher()
    const { bag, publicKeys } = await signedBag(undefined, { cipher })
    expect((await verifyBag(bag, { publicKeys, cipher })).report.findings).toEqual([])
    const wrong = await verifyBag(bag, { publicKeys, cipher: streamingTestCipher() })
    expect(wrong.report.exitCode).toBe(5)
  })

  it('the wrong key is exit 5', async () => {
    const { bag, publicKeys } = await signedBag(undefined, { cipher: testCipher() })
    const { report } = await verifyBag(bag, { publicKeys, cipher: testCipher() })
    expect(codes(report)).toEqual(['E_NOT_DECRYPTABLE', 'E_NOT_DECRYPTABLE', 'E_NOT_DECRYPTABLE'])
    expect(report.exitCode).toBe(5)
  })

  it('ciphertexts swapped between paths (manifests rewritten, unsigned) no longer decrypt', async () => {
    const cipher = testCipher()
    const { bag } = await signedBag({ 'a.txt': 'alpha', 'b.txt': 'bravo' }, { cipher })
    unlinkSync(join(bag, 'attestation.jws'))
    const a = readFileSync(join(bag, 'data/a.txt'))
    writeFileSync(join(bag, 'data/a.txt'), readFileSync(join(bag, 'data/b.txt')))
    writeFileSync(join(bag, 'data/b.txt'), a)
    rewriteManifests(bag)
    const { report } = await verifyBag(bag, { cipher })
    expect(codes(report)).toEqual(['E_NOT_DECRYPTABLE', 'E_NOT_DECRYPTABLE'])
    expect(report.exitCode).toBe(5)
  })
})

describe('restore tests', () => {
  it('a passing and a failing function hook; failure is exit 5', async () => {
    const { bag, publicKeys } = await signedBag()
    const seen: string[] = []
    const ok = await verifyBag(bag, {
      publicKeys,
      restoreTests: [
        {
          name: 'dump parses',
          async run(ctx) {
            seen.push(readFileSync(join(ctx.payloadDir, 'db/dump.sql'), 'utf8'))
            return { ok: true }
          },
        },
      ],
    })
    expect(ok.report.exitCode).toBe(0)
    expect(ok.report.restoreTests).toEqual([
      { name: 'dump parses', ok: true, durationMs: expect.any(Number) },
    ])
    expect(seen[0]).toContain('CREATE TABLE')
    const bad = await verifyBag(bag, {
      publicKeys,
      restoreTests: [
        {
          name: 'throws',
          async run() {
            throw new Error('boom')
          },
        },
      ],
    })
    expect(codes(bad.report)).toEqual(['E_RESTORE_TEST_FAILED'])
    expect(bad.report.exitCode).toBe(5)
  })

  it('restore tests do not run on a damaged bag (fail closed)', async () => {
    const { bag, publicKeys } = await signedBag()
    writeFileSync(join(bag, 'data/empty.bin'), 'x')
    let ran = false
    const { report } = await verifyBag(bag, {
      publicKeys,
      restoreTests: [
        {
          name: 'x',
          async run() {
            ran = true
            return { ok: true }
          },
        },
      ],
    })
    expect(report.exitCode).toBe(1)
    expect(ran).toBe(false)
  })
})

describe('unreadable files (exit 6)', () => {
  it('a payload file the verifier may not read is E_UNREADABLE', async () => {
    const { bag, publicKeys } = await signedBag()
    // Root ignores permission bits, so as root the check runs in a child process that drops to
    // uid/gid 65534 (nobody); otherwise chmod 000 is enough in-process.
    const target = join(bag, 'data/notes/readme.txt')
    chmodSync(target, 0o000)
    if (process.getuid?.() === 0) {
      chmodSync(join(bag, '..'), 0o755)
      const out = execFileSync(
        process.execPath,
        [
          '--conditions=@safeguards/source',
          '--import',
          'tsx',
          join(import.meta.dirname, 'fixtures/verify-child.ts'),
          bag,
        ],
        { cwd: join(import.meta.dirname, '..'), encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
      )
      const report = JSON.parse(out) as { exitCode: number; findings: { code: string; severity: string }[] }
      expect(codes(report)).toEqual(['E_UNREADABLE'])
      expect(report.exitCode).toBe(6)
    } else {
      const { report } = await verifyBag(bag, { publicKeys })
      expect(codes(report)).toEqual(['E_UNREADABLE'])
      expect(report.exitCode).toBe(6)
    }
  })
})

describe('sampled verification', () => {
  it('a byte budget hashes least-recently-verified files first and repeated runs cover everything', async () => {
    const files: Record<string, string> = {}
    for (let i = 0; i < 10; i++) files[`f${i}.bin`] = 'x'.repeat(1000)
    const { bag, publicKeys } = await signedBag(files)
    let state = emptyVerifyState()
    const seen = new Set<string>()
    for (let run = 0; run < 4; run++) {
      const r = await verifyBag(bag, {
        publicKeys,
        state,
        budget: { maxBytes: 3000 },
        ...at(T0 + run * 1000),
      })
      expect(r.report.exitCode).toBe(0)
      expect(r.report.coverage.filesVerified).toBe(3)
      expect(r.report.status).toBe('partial')
      for (const k of Object.entries(r.state.coverage?.files ?? {}))
        if (k[1].at === T0 + run * 1000) seen.add(k[0])
      state = r.state
    }
    expect(seen.size).toBe(10)
    const last = await verifyBag(bag, { publicKeys, state, budget: { maxBytes: 3000 }, ...at(T0 + 10_000) })
    expect(last.report.coverage.filesEverVerified).toBe(10)
    expect(last.report.coverage.oldestVerifiedAt).not.toBeNull()
  })

  it('a damaged file is found within a full cycle, and re-checked first afterwards', async () => {
    const files: Record<string, string> = {}
    for (let i = 0; i < 6; i++) files[`f${i}.bin`] = `content ${i}`.repeat(100)
    const { bag, publicKeys } = await signedBag(files)
    writeFileSync(join(bag, 'data/f4.bin'), `content X`.repeat(100))
    let state = emptyVerifyState()
    let found = -1
    for (let run = 0; run < 3 && found < 0; run++) {
      const r = await verifyBag(bag, { publicKeys, state, budget: { maxBytes: 2000 }, ...at(T0 + run) })
      if (r.report.exitCode === 1) found = run
      state = r.state
    }
    expect(found).toBeGreaterThanOrEqual(0)
    const again = await verifyBag(bag, { publicKeys, state, budget: { maxBytes: 1 }, ...at(T0 + 100) })
    expect(codes(again.report)).toEqual(['E_DIGEST_MISMATCH', 'E_DIGEST_MISMATCH'])
  })

  it('structure, signature and completeness still run in full under a budget', async () => {
    const { bag, publicKeys } = await signedBag()
    unlinkSync(join(bag, 'data/empty.bin'))
    const { report } = await verifyBag(bag, { publicKeys, budget: { maxBytes: 1 } })
    expect(codes(report)).toEqual(['E_MISSING'])
  })

  it('a time budget of 0 ms still hashes nothing beyond the first dispatch and reports partial coverage', async () => {
    const files: Record<string, string> = {}
    for (let i = 0; i < 40; i++) files[`f${i}.bin`] = 'y'.repeat(100)
    const { bag, publicKeys } = await signedBag(files)
    let t = T0
    const clock = { now: () => (t += 10) }
    const { report } = await verifyBag(bag, { publicKeys, budget: { maxMs: 0 }, clock, concurrency: 1 })
    expect(report.exitCode).toBe(0)
    expect(report.coverage.complete).toBe(false)
    expect(report.coverage.filesVerified).toBeLessThan(40)
  })
})

describe('choosing manifests', () => {
  it('manifestAlgorithms: checks only the named digests, reports partial, still catches a flipped bit', async () => {
    const { bag, publicKeys } = await signedBag()
    const clean = await verifyBag(bag, { publicKeys, manifestAlgorithms: ['sha256'] })
    expect(clean.report).toMatchObject({ exitCode: 0, status: 'partial' })
    expect(clean.report.coverage.algorithms).toEqual(['sha256'])
    const all = await verifyBag(bag, { publicKeys, manifestAlgorithms: ['md5'] }) // absent → every manifest
    expect(all.report.coverage.algorithms).toEqual(['sha512', 'sha256'])
    expect(all.report.status).toBe('ok')
    const p = join(bag, 'data/db/dump.sql')
    const bytes = readFileSync(p)
    bytes[0] = (bytes[0] as number) ^ 0x80
    writeFileSync(p, bytes)
    const { report } = await verifyBag(bag, { publicKeys, manifestAlgorithms: ['sha256'] })
    expect(codes(report)).toEqual(['E_DIGEST_MISMATCH'])
    expect(report.findings[0]?.detail).toBe('sha256')
  })
})

describe('bag-in-place details', () => {
  it('moves files when asked (sparse files stay sparse) and keeps empty directories out', async () => {
    const root = tempDir('move')
    writeTree(root, { 'src/a.txt': 'a' })
    mkdirSync(join(root, 'src/empty-dir'))
    const r = await createBag(join(root, 'src'), join(root, 'bag'), { move: true })
    expect(r.files).toBe(1)
    expect(() => statSync(join(root, 'src/a.txt'))).toThrow()
    expect((await verifyBag(r.bagDir)).report.exitCode).toBe(0)
  })
})
