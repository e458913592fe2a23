import { manualClock } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import {
  type AuditEvent,
  accessReport,
  createCheckpointSigner,
  createKeyring,
  generateCheckpointKey,
  openAuditLog,
  openFileStore,
  proveInclusions,
  verifyInclusionBundle,
} from '../src/index.js'
import { tempDir } from './helpers.js'
import { appendMix } from './query-conformance.js'

const chartRead = (
  who: string,
  patient: string,
  extra: Partial<AuditEvent['agents'][0]> = {},
): AuditEvent => ({
  type: 'rest',
  subtype: ['read'],
  action: 'R',
  outcome: 0,
  agents: [
    { who: 'Device/gw', requestor: false, type: 'application' },
    { who, requestor: true, type: 'humanuser', role: ['nurse'], ...extra },
  ],
  source: { observer: 'ehr-api' },
  patient,
})

async function clinicLog() {
  const key = await generateCheckpointKey()
  const clock = manualClock(Date.parse('2026-05-01T10:00:00.000Z'))
  const store = await openFileStore({ dir: tempDir(), stream: 'clinic', durability: 'none' })
  const log = await openAuditLog({
    store,
    clock,
    closeStore: false,
    signer: await createCheckpointSigner(key.privateJwk),
    checkpointEvery: { records: 1_000_000, ms: 0 },
  })
  await appendMix(log, 60)
  await log.append(chartRead('Practitioner/n1', 'Patient/p-7f3a'))
  clock.advance(3_600_000)
  await log.append({
    ...chartRead('Practitioner/n2', 'Patient/p-7f3a', { purposeOfUse: ['TREAT', 'BTG'] }),
    occurred: '2026-05-01T10:30:00.000Z',
  })
  await log.append({ ...chartRead('Practitioner/n1', 'Patient/p-7f3a'), action: 'U', outcome: 8 })
  const keyring = await createKeyring([{ publicJwk: key.publicJwk }])
  return { store, log, clock, keyring }
}

describe('accessReport', () => {
  it('lists every access to one patient, a row per record with who, role, action, purpose and the emergency flag', async () => {
    const { store, log } = await clinicLog()
    const report = await accessReport(store, { patient: 'Patient/p-7f3a' })
    expect(report.size).toBe(63)
    expect(report.checkpoint).toBeUndefined()
    expect(report.rows.map((r) => [r.seq, r.who, r.action, r.outcome, r.emergency])).toEqual([
      [60, 'Practitioner/n1', 'R', 0, false],
      [61, 'Practitioner/n2', 'R', 0, true],
      [62, 'Practitioner/n1', 'U', 8, false],
    ])
    expect(report.rows[1]).toMatchObject({
      time: '2026-05-01T10:30:00.000Z',
      recorded: '2026-05-01T11:00:00.000Z',
      role: ['nurse'],
      interaction: ['read'],
      purposeOfUse: ['TREAT', 'BTG'],
      patient: 'Patient/p-7f3a',
      type: 'rest',
    })
    expect(report.rows[0]?.time).toBe(report.rows[0]?.recorded)
    expect(await accessReport(store, { patient: 'Patient/p-7f3a' }, { scan: true })).toEqual(report)
    const mine = await accessReport(store, { who: 'Practitioner/n1', from: '2026-05-01T10:59:00Z' })
    expect(mine.rows.map((r) => r.seq)).toEqual([62])
    await log.close()
    await store.close()
  })

  it('with prove: reaches the newest signed checkpoint and every row carries a proof that checks offline', async () => {
    const { store, log, keyring } = await clinicLog()
    await log.checkpoint()
    await log.append(chartRead('Practitioner/late', 'Patient/p-7f3a')) // after the checkpoint
    const report = await accessReport(store, { patient: 'Patient/p-7f3a' }, { prove: true })
    expect(report.size).toBe(63)
    expect(report.checkpoint?.size).toBe(63)
    expect(report.rows.map((r) => r.seq)).toEqual([60, 61, 62])
    for (const row of report.rows) {
      expect(row.proof?.seq).toBe(row.seq)
      expect(await verifyInclusionBundle(row.proof!, keyring)).toMatchObject({ valid: true })
    }
    // a proof moved to another row does not check
    const swapped = { ...report.rows[0]!.proof!, seq: 61 }
    expect((await verifyInclusionBundle(swapped, keyring)).valid).toBe(false)
    await log.close()
    await store.close()
  })

  it('refuses what it cannot answer honestly', async () => {
    const { store, log } = await clinicLog()
    await expect(accessReport(store, {})).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await expect(accessReport(store, { patient: 'Patient/p-7f3a' }, { prove: true })).rejects.toBeInstanceOf(
      RangeError,
    ) // no checkpoint yet
    await expect(accessReport(store, { patient: 'Patient/p-7f3a' }, { maxRows: 2 })).rejects.toThrow(
      /more than 2 rows/,
    )
    expect((await accessReport(store, { patient: 'Patient/p-7f3a' }, { maxRows: 3 })).rows).toHaveLength(3)
    await log.close()
    await store.close()
  })
})

describe('proveInclusions', () => {
  it('proves many records in one pass, in the order asked, repeats included; refuses seqs beyond the checkpoint', async () => {
    const { store, log, keyring } = await clinicLog()
    const cp = await log.checkpoint()
    const bundles = await proveInclusions(store, [62, 0, 31, 62], cp!)
    expect(bundles.map((b) => b.seq)).toEqual([62, 0, 31, 62])
    for (const b of bundles) expect((await verifyInclusionBundle(b, keyring)).valid).toBe(true)
    await expect(proveInclusions(store, [63], cp!)).rejects.toBeInstanceOf(RangeError)
    await expect(proveInclusions(store, [-1], cp!)).rejects.toBeInstanceOf(RangeError)
    expect(await proveInclusions(store, [], cp!)).toEqual([])
    await log.close()
    await store.close()
  })
})
