/**
 * Lookup by phone number through the blind index (`src/patient-search.ts`): the number typed in
 * any format finds the one patient; an unknown number finds none; the policy decides who may
 * search; each search leaves one audit record without the number; a record whose index value
 * collides but whose phone differs is not returned; the root key survives a KEK rotation and a
 * restart, and two instances starting together on one shared directory share one root key.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToBase64, manualClock, utf8Encode } from '@safeguards/core'
import { importBlindIndexKey, normalizePhone } from '@safeguards/envelope'
import { describe, expect, it } from 'vitest'
import { type RunningClinic, STAFF_USERNAMES, startClinic } from '../src/clinic.js'
import { client, signIn } from '../src/demo.js'
import { BLIND_INDEX_KEY_FILE, openPatientSearch, PHONE_INDEX_BITS } from '../src/patient-search.js'
import { context, openRecords } from '../src/records.js'
import { generateClinicSecrets } from '../src/secrets.js'
import { PATIENTS } from '../src/staff.js'
import { failableClinic } from './audit-helpers.js'
import { memoryRecordKeys } from './record-keys.js'

const clock = manualClock(Date.UTC(2026, 11, 7, 9, 0, 0))
const demo = { advance: (ms: number) => clock.advance(ms) }
const t = failableClinic(clock)

const search = (token: string, phone: string) =>
  t.call('GET', `/api/patients?phone=${encodeURIComponent(phone)}`, token)

describe('GET /api/patients?phone=', () => {
  it('finds the one patient whatever the format typed; an unknown number finds none', async () => {
    const desk = await signIn(t.clinic, 'frank.front')
    for (const typed of [
      '+1-202-555-0100',
      '(202) 555-0100',
      '202.555.0100',
      '1 202 555 0100',
      '+1 (202) 555 0100',
      '001 202 555 0100',
      ' 2025550100 ',
    ]) {
      const r = await search(desk, typed)
      expect(r.status, typed).toBe(200)
      expect(r.body, typed).toEqual({ patients: ['p-1'] })
    }
    expect((await search(desk, '(202) 555-0177')).body).toEqual({ patients: ['p-4'] })
    const none = await search(desk, '(202) 555-0123')
    expect(none.status).toBe(200)
    expect(none.body).toEqual({ patients: [] })
    // Not a phone number, or none given: 400, nothing looked up.
    expect((await search(desk, '555-0100 ext 12')).status).toBe(400)
    expect((await t.call('GET', '/api/patients', desk)).status).toBe(400)
  })

  it('front desk, nurses and physicians may search; billing, auditors and admins may not', async () => {
    for (const who of ['frank.front', 'nora.nurse', 'priya.physician']) {
      const r = await search(await signIn(t.clinic, who), '(202) 555-0142')
      expect(r.status, who).toBe(200)
      expect(r.body.patients, who).toEqual(['p-3'])
    }
    for (const who of ['bill.billing', 'ada.auditor', 'alan.admin']) {
      const r = await search(await signIn(t.clinic, who), '(202) 555-0142')
      expect(r.status, who).toBe(403)
      expect(r.body).toEqual({ error: 'forbidden', reason: 'no_matching_allow' })
    }
    expect((await t.call('GET', '/api/patients?phone=2025550142')).status).toBe(401)
  })

  it('records each search once, as a FHIR search by the clinic, without the number', async () => {
    const desk = await signIn(t.clinic, 'frank.front')
    const before = t.records().length
    expect((await search(desk, '(202) 555-0199')).body).toEqual({ patients: ['p-2'] })
    expect((await search(desk, '(202) 555-0123')).body).toEqual({ patients: [] })
    expect((await search(desk, 'call me')).status).toBe(400)
    const written = t.records().slice(before)
    expect(written).toHaveLength(3)
    expect(written[0]).toMatchObject({
      type: 'rest',
      subtype: ['search-type'],
      action: 'R',
      outcome: 0,
      outcomeCode: 'allow',
      agents: [{ who: 'u-front', requestor: true }],
      entities: [{ what: 'Patient', type: '2', role: '4' }],
      details: {
        event: 'record.accessed',
        emitter: 'clinic-api',
        tenant: 'clinic-a',
        'counts.matches': 1,
        'counts.candidates': 1,
      },
    })
    expect(written[0]!.patient).toMatch(/^ps:clinic:/) // the one patient found, pseudonymised
    expect(written[1]).toMatchObject({ outcome: 0, details: { 'counts.matches': 0 } })
    expect(written[1]!.patient).toBeUndefined()
    expect(written[2]).toMatchObject({ outcome: 8, outcomeCode: 'ERR_BLIND_INDEX_INPUT' })
    const text = JSON.stringify(written)
    for (const digits of ['2025550199', '555-0199', '5550199', '0199', '0123', 'call me'])
      expect(text).not.toContain(digits)
  })

  it('fails closed: no ids leave when the audit record cannot be written', async () => {
    const desk = await signIn(t.clinic, 'frank.front')
    t.failing = true
    try {
      const r = await search(desk, '(202) 555-0100')
      expect(r.status).toBe(503)
      expect(r.body).toEqual({ error: 'audit_unavailable' })
    } finally {
      t.failing = false
    }
  })

  it('stores a blind index beside the encrypted phone; the root key is wrapped', () => {
    const rec = JSON.parse(readFileSync(join(t.clinic.paths.records, 'p-1.json'), 'utf8')) as {
      phone_bidx: string
    }
    expect(PHONE_INDEX_BITS).toBe(12)
    expect(rec.phone_bidx).toMatch(/^[0-9a-f]{3}0$/) // 12 bits: 4 hex characters, the last one 0
    const wrapped = JSON.parse(readFileSync(join(t.clinic.dataDir, BLIND_INDEX_KEY_FILE), 'utf8'))
    expect(Object.keys(wrapped).sort()).toEqual(['edk', 'format', 'keyRef', 'providerId'])
    expect(wrapped).toMatchObject({ format: 'hge-bidx-key/v1', providerId: 'local' })
  })
})

describe('openPatientSearch', () => {
  it('does not return a record whose index value collides but whose phone differs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-clinic-search-'))
    try {
      const keys = await memoryRecordKeys()
      const envelope = keys.reader
      await openRecords(dir, keys)
      // A record whose phone is not a phone number stays unindexed (not findable), without failing
      // the open; it was written under the keyring itself, before per-patient keys, and still reads.
      const odd = await keys.legacy.envelope.encrypt(utf8Encode('ask at the desk'), context('p-9', 'phone'))
      writeFileSync(
        join(dir, 'p-9.json'),
        JSON.stringify({ id: 'p-9', fields: { phone: bytesToBase64(odd) } }),
      )
      // One bit: four patients in two index values, so some value is shared by two or more.
      const s = await openPatientSearch({
        dir,
        envelope,
        key: importBlindIndexKey(new Uint8Array(32).fill(9)),
        bits: 1,
      })
      const byValue = new Map<string, string[]>()
      for (const [id, f] of Object.entries(PATIENTS)) {
        const v = s.index.compute(f.phone!)
        byValue.set(v, [...(byValue.get(v) ?? []), id])
      }
      const shared = [...byValue.values()].find((ids) => ids.length > 1)!
      expect(shared.length).toBeGreaterThan(1)
      for (const id of shared) {
        const found = await s.byPhone(PATIENTS[id]!.phone!)
        expect(found).toEqual({ ids: [id], candidates: shared.length })
      }
      // A number nobody has, in a shared bucket or not: every candidate decrypted, none returned.
      const stranger = await s.byPhone('(202) 555-0111')
      expect(stranger.ids).toEqual([])
      expect(normalizePhone(PATIENTS['p-1']!.phone!)).toBe('+12025550100')
      expect(JSON.parse(readFileSync(join(dir, 'p-9.json'), 'utf8')).phone_bidx).toBeUndefined()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('keeps working after a KEK rotation and a restart; two instances starting together share one root key', async () => {
    const secrets = await generateClinicSecrets(STAFF_USERNAMES)
    const shared = mkdtempSync(join(tmpdir(), 'sg-clinic-search-shared-'))
    const instances: RunningClinic[] = []
    const start = async (name: string) => {
      const c = await startClinic({
        clock,
        demo,
        secrets,
        sharedDir: shared,
        anchorDir: join(shared, `anchor-${name}`),
      })
      instances.push(c)
      return c
    }
    try {
      const [a, b] = await Promise.all([start('a'), start('b')])
      for (const c of [a!, b!]) {
        const r = await client(c.url)('GET', '/api/patients?phone=2025550177', await signIn(c, 'frank.front'))
        expect(r.body).toEqual({ patients: ['p-4'] })
      }
      const rot = await client(a!.url)('POST', '/api/admin/keys/rotate', await signIn(a!, 'alan.admin'))
      expect(rot.status).toBe(200)
      const wrapped = JSON.parse(readFileSync(join(shared, BLIND_INDEX_KEY_FILE), 'utf8'))
      expect(wrapped.keyRef).toBe(rot.body.primary) // rewrapped before the old KEK was retired
      for (const c of instances.splice(0)) await c.stop()
      const again = await start('c')
      const r = await client(again.url)(
        'GET',
        '/api/patients?phone=2025550177',
        await signIn(again, 'nora.nurse'),
      )
      expect(r.body).toEqual({ patients: ['p-4'] })
    } finally {
      for (const c of instances) await c.stop()
      rmSync(shared, { recursive: true, force: true })
    }
  }, 60_000)
})
