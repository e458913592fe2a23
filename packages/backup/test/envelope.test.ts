/**
 * Encrypted backups with the real @safeguards/envelope: `createEnvelope({ provider: keyring })` is
 * a PayloadCipher as it is (structural typing, no adapter). Each file is bound to its bag and
 * path through the encryption context.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createEnvelope, LocalKeyring } from '@safeguards/envelope'
import { describe, expect, it } from 'vitest'
import { type PayloadCipher, verifyBag } from '../src/index.js'
import { codes, rewriteManifests, signedBag } from './helpers.js'

describe('with @safeguards/envelope', () => {
  it('bags ciphertext, verifies without keys, decrypts with the keyring, fails with another', async () => {
    const keyring = await LocalKeyring.inMemory()
    const cipher: PayloadCipher = createEnvelope({ provider: keyring })
    const { bag, publicKeys } = await signedBag(
      {
        'db/dump.sql': 'INSERT INTO patients VALUES (1, $$Jane Doe$$);\n',
        'big.bin': new Uint8Array(600_000).fill(7),
      },
      { cipher },
    )
    expect(readFileSync(join(bag, 'data/db/dump.sql'), 'latin1')).not.toContain('Jane Doe')
    const storage = await verifyBag(bag, { publicKeys, requireSignature: true })
    expect(storage.report.exitCode).toBe(0)
    const full = await verifyBag(bag, { publicKeys, requireSignature: true, cipher })
    expect(full.report.findings).toEqual([])
    // After a key rotation the old bag still decrypts (the old key is decrypt-only).
    await keyring.rotate()
    expect((await verifyBag(bag, { publicKeys, cipher })).report.exitCode).toBe(0)
    const other = createEnvelope({ provider: await LocalKeyring.inMemory() })
    const wrong = await verifyBag(bag, { publicKeys, cipher: other })
    expect(codes(wrong.report)).toEqual(['E_NOT_DECRYPTABLE', 'E_NOT_DECRYPTABLE'])
    expect(wrong.report.exitCode).toBe(5)
  })

  it('a ciphertext moved to another path no longer decrypts (path bound in the context)', async () => {
    const keyring = await LocalKeyring.inMemory()
    const cipher = createEnvelope({ provider: keyring })
    const { bag } = await signedBag({ 'a.txt': 'alpha', 'b.txt': 'bravo' }, { cipher })
    renameSync(join(bag, 'data/a.txt'), join(bag, 'data/c.txt'))
    writeFileSync(join(bag, 'data/a.txt'), readFileSync(join(bag, 'data/b.txt')))
    rewriteManifests(bag)
    const { report } = await verifyBag(bag, { cipher })
    expect(codes(report).sort()).toEqual(['E_NOT_DECRYPTABLE', 'E_NOT_DECRYPTABLE'])
    expect(
      report.findings
        .filter((f) => f.severity === 'error')
        .map((f) => f.path)
        .sort(),
    ).toEqual(['data/a.txt', 'data/c.txt'])
  })
})
