import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { utf8Decode, utf8Encode } from '@safeguards/core'
import { createEnvelope, inspectEnvelope, KeyUnavailableError, LocalKeyring } from '@safeguards/envelope'
import { afterEach, describe, expect, it } from 'vitest'
import { type EncryptedRow, memoryTable, runRotationJob } from '../src/index.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

async function setup(n: number) {
  const dir = mkdtempSync(join(tmpdir(), 'sg-rotation-'))
  dirs.push(dir)
  const keyring = await LocalKeyring.inMemory({ name: 'patients' })
  const envelope = createEnvelope({ provider: keyring })
  const rows: EncryptedRow[] = []
  for (let i = 0; i < n; i++) {
    const id = `p-${String(i).padStart(4, '0')}`
    const context = { table: 'patients', column: 'ssn', row: id }
    rows.push({ id, context, ciphertext: await envelope.encrypt(utf8Encode(`ssn-${i}`), context) })
  }
  return { dir, keyring, envelope, table: memoryTable(rows), checkpointFile: join(dir, 'checkpoint.json') }
}

describe('runRotationJob', () => {
  it('rewraps every row after an interruption and resume, then retires the old version', async () => {
    const { keyring, envelope, table, checkpointFile } = await setup(25)
    const old = (await keyring.primary()).keyRef
    const next = await keyring.rotate()

    const first = await runRotationJob({
      envelope,
      keyring,
      table,
      checkpointFile,
      batchSize: 5,
      maxBatches: 2,
    })
    expect(first).toMatchObject({ complete: false, scanned: 10, rewrapped: 10, retired: [] })
    expect(JSON.parse(readFileSync(checkpointFile, 'utf8'))).toEqual({ after: 'p-0009' })
    const underOld = [...table.rows.values()].filter(
      (r) => inspectEnvelope(r.ciphertext).keys[0]?.keyRef === old,
    )
    expect(underOld).toHaveLength(15)
    expect((await keyring.list()).find((k) => k.keyRef === old)?.retired).toBeFalsy()

    const second = await runRotationJob({ envelope, keyring, table, checkpointFile, batchSize: 5 })
    expect(second).toMatchObject({ complete: true, scanned: 15, rewrapped: 15, conflicts: 0, remaining: {} })
    expect(second.retired).toEqual([1])
    expect(JSON.parse(readFileSync(checkpointFile, 'utf8'))).toEqual({ after: null })

    for (const [i, row] of [...table.rows.values()].entries()) {
      expect(inspectEnvelope(row.ciphertext).keys.map((k) => k.keyRef)).toEqual([next.keyRef])
      expect(utf8Decode(await envelope.decrypt(row.ciphertext, row.context))).toBe(`ssn-${i}`)
    }
    const retired = (await keyring.list()).find((k) => k.keyRef === old)
    expect(retired).toMatchObject({ retired: true, state: 'disabled' })
  })

  it('is idempotent: a second full run changes nothing', async () => {
    const { keyring, envelope, table, checkpointFile } = await setup(6)
    await keyring.rotate()
    await runRotationJob({ envelope, keyring, table, checkpointFile })
    const before = new Map([...table.rows].map(([id, r]) => [id, r.ciphertext]))
    const again = await runRotationJob({ envelope, keyring, table, checkpointFile })
    expect(again).toMatchObject({ complete: true, scanned: 6, rewrapped: 0, retired: [] })
    for (const [id, r] of table.rows) expect(r.ciphertext).toBe(before.get(id))
  })

  it('does not retire a version while a row still needs it (a concurrent writer)', async () => {
    const { keyring, envelope, table, checkpointFile } = await setup(4)
    await keyring.rotate()
    const stale = table.rows.get('p-0002') as EncryptedRow
    const inner = table.replace.bind(table)
    // Someone else writes p-0002 between our read and our write: compare-and-swap refuses.
    table.replace = async (id, expected, next) => (id === 'p-0002' ? false : inner(id, expected, next))
    const run = await runRotationJob({ envelope, keyring, table, checkpointFile })
    expect(run).toMatchObject({ complete: true, rewrapped: 3, conflicts: 1, retired: [] })
    expect(run.remaining).toEqual({ [inspectEnvelope(stale.ciphertext).keys[0]?.keyRef as string]: 1 })
    expect(utf8Decode(await envelope.decrypt(stale.ciphertext, stale.context))).toBe('ssn-2')
    table.replace = inner
    const retry = await runRotationJob({ envelope, keyring, table, checkpointFile })
    expect(retry).toMatchObject({ rewrapped: 1, retired: [1] })
    await expect(envelope.decrypt(stale.ciphertext, stale.context)).rejects.toBeInstanceOf(
      KeyUnavailableError,
    )
  })

  it('stops between batches when aborted and starts from scratch with no checkpoint', async () => {
    const { keyring, envelope, table, checkpointFile } = await setup(3)
    await keyring.rotate()
    const ac = new AbortController()
    ac.abort()
    const run = await runRotationJob({ envelope, keyring, table, checkpointFile, signal: ac.signal })
    expect(run).toMatchObject({ complete: false, scanned: 0 })
    expect(existsSync(checkpointFile)).toBe(false)
  })
})
