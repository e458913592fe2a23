import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  commandRestoreTest,
  createBag,
  emptyVerifyState,
  loadVerifyState,
  saveVerifyState,
  verifyBag,
} from '../src/index.js'
import { signedBag, tempDir, writeTree } from './helpers.js'

describe('verifier state file', () => {
  it('missing → empty; saved → loaded back; malformed → ERR_BACKUP_STATE', async () => {
    const dir = tempDir('state')
    const path = join(dir, 'state.json')
    expect(await loadVerifyState(path)).toEqual(emptyVerifyState())
    const state = emptyVerifyState()
    state.chains.nightly = {
      seq: 3,
      attestationSha256: 'a'.repeat(64),
      createdAt: '2026-11-22T02:00:00.000Z',
    }
    await saveVerifyState(path, state)
    expect(await loadVerifyState(path)).toEqual(state)
    for (const bad of [
      'not json',
      '{"schemaVersion":2,"chains":{},"coverage":null}',
      '{"schemaVersion":1,"chains":{"x":{"seq":"1"}},"coverage":null}',
      '{"schemaVersion":1,"chains":{},"coverage":5}',
      '{"schemaVersion":1,"chains":{},"coverage":null,"coverage":null}',
    ]) {
      writeFileSync(path, bad)
      await expect(loadVerifyState(path)).rejects.toMatchObject({ code: 'ERR_BACKUP_STATE' })
    }
    await expect(loadVerifyState(dir)).rejects.toMatchObject({ code: 'ERR_BACKUP_STATE' })
  })

  it('a state whose chain head is not in the bag set does not affect another set', async () => {
    const { bag, publicKeys } = await signedBag()
    const state = emptyVerifyState()
    state.chains.other = { seq: 99, attestationSha256: 'b'.repeat(64), createdAt: '2026-11-22T02:00:00.000Z' }
    const r = await verifyBag(bag, { publicKeys, state })
    expect(r.report.exitCode).toBe(0)
    expect(r.state.chains.default?.seq).toBe(1)
    expect(r.state.chains.other?.seq).toBe(99)
  })
})

describe('command restore tests', () => {
  it('placeholders are replaced, env is set, no shell is involved', async () => {
    const { bag } = await signedBag()
    const test = commandRestoreTest('grep', ['grep', '-q', 'CREATE TABLE', '{data}/db/dump.sql'])
    expect((await verifyBag(bag, { restoreTests: [test] })).report.exitCode).toBe(0)
    const injection = commandRestoreTest('no shell', ['test', '-f', '{bag}/bagit.txt; exit 0'])
    expect((await verifyBag(bag, { restoreTests: [injection] })).report.exitCode).toBe(5)
  })

  it('a missing program and a timeout are failures with a detail', async () => {
    const { bag } = await signedBag()
    const missing = await verifyBag(bag, {
      restoreTests: [commandRestoreTest('missing', ['/nonexistent/program'])],
    })
    expect(missing.report.findings.at(-1)).toMatchObject({
      code: 'E_RESTORE_TEST_FAILED',
      detail: 'missing: ENOENT',
    })
    const slow = await verifyBag(bag, {
      restoreTests: [commandRestoreTest('slow', ['sleep', '30'], { timeoutMs: 200 })],
    })
    expect(slow.report.findings.at(-1)).toMatchObject({
      code: 'E_RESTORE_TEST_FAILED',
      detail: 'slow: timeout',
    })
    expect(() => commandRestoreTest('x', [])).toThrow(TypeError)
  })
})

describe('createBag options', () => {
  it('bag-info extras, backup set ids and a previous attestation from another set', async () => {
    const root = tempDir('opts')
    writeTree(root, { 'src/a.txt': 'a', 'src2/a.txt': 'b' })
    const first = await createBag(join(root, 'src'), join(root, 'bag'), {
      backupSetId: 'set-a',
      bagInfo: { 'Contact-Name': 'Ops On Call' },
    })
    expect(first.attestation).toBeNull()
    await expect(
      createBag(join(root, 'src2'), join(root, 'bag2'), { backupSetId: 'bad id!' }),
    ).rejects.toMatchObject({ code: 'ERR_BACKUP_SOURCE' })
    await expect(
      createBag(join(root, 'src2'), join(root, 'bag3'), { bagInfo: { 'Bad:Label': 'x' } }),
    ).rejects.toMatchObject({ code: 'ERR_BACKUP_SOURCE' })
    await expect(
      createBag(join(root, 'src2'), join(root, 'bag4'), { previousAttestation: 'not.a.jws' }),
    ).rejects.toMatchObject({ code: 'ERR_BACKUP_ATTESTATION' })
    await expect(createBag(join(root, 'nope'), join(root, 'bag5'))).rejects.toMatchObject({
      code: 'ERR_BACKUP_SOURCE',
    })
    await expect(createBag(join(root, 'src'), join(root, 'src', 'inner'))).rejects.toMatchObject({
      code: 'ERR_BACKUP_DESTINATION',
    })
  })
})

describe('opening walked files', () => {
  it('refuses a symlink, a FIFO (without blocking) and a file whose inode changed since the walk', async () => {
    const { execFileSync } = await import('node:child_process')
    const { statSync, symlinkSync } = await import('node:fs')
    const { openWalked, readWalked } = await import('../src/internal/safe-open.js')
    const dir = tempDir('open')
    writeTree(dir, { 'a.txt': 'a', 'b.txt': 'b' })
    const a = statSync(join(dir, 'a.txt'))
    expect(new TextDecoder().decode(await readWalked(join(dir, 'a.txt'), a))).toBe('a')
    await expect(readWalked(join(dir, 'b.txt'), a)).rejects.toThrow('changed')
    symlinkSync(join(dir, 'a.txt'), join(dir, 'link'))
    await expect(openWalked(join(dir, 'link'), a)).rejects.toMatchObject({ code: 'ELOOP' })
    execFileSync('mkfifo', [join(dir, 'fifo')])
    await expect(openWalked(join(dir, 'fifo'), statSync(join(dir, 'fifo')))).rejects.toThrow('changed')
  })
})
