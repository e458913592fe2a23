/**
 * The records (`src/records.ts`): fields written before per-patient keys (under the keyring itself)
 * are moved under the patient's subject key when the records open, so that shredding the patient
 * leaves none of them readable; the other patients' fields are untouched.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { base64ToBytes, bytesToBase64, utf8Decode, utf8Encode } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import { context, openRecords } from '../src/records.js'
import { memoryRecordKeys } from './record-keys.js'

describe('openRecords', () => {
  it('moves fields still under the keyring under the patient key; a shred then leaves none readable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-clinic-records-'))
    try {
      const keys = await memoryRecordKeys()
      const legacy = await keys.legacy.envelope.encrypt(utf8Encode('Old Patient'), context('p-7', 'name'))
      expect(keys.reader.inspect(legacy).keys[0]?.providerId).toBe(keys.legacy.providerId)
      writeFileSync(
        join(dir, 'p-7.json'),
        JSON.stringify({ id: 'p-7', fields: { name: bytesToBase64(legacy) } }),
      )
      const records = await openRecords(dir, keys)
      const rec = JSON.parse(readFileSync(join(dir, 'p-7.json'), 'utf8')) as { fields: { name: string } }
      const moved = base64ToBytes(rec.fields.name)
      expect(keys.reader.inspect(moved).keys.map((k) => k.providerId)).toEqual(['subject'])
      expect(utf8Decode(await keys.reader.decrypt(moved, context('p-7', 'name')))).toBe('Old Patient')
      expect(await records.section({ id: 'p-7', fields: rec.fields }, 'Demographics')).toEqual({
        name: 'Old Patient',
      })
      await keys.keys.shredSubject('p-7')
      await expect(records.section({ id: 'p-7', fields: rec.fields }, 'Demographics')).rejects.toMatchObject({
        code: 'ERR_SUBJECT_SHREDDED',
      })
      const p1 = records.load('p-1')!
      expect((await records.section(p1, 'Demographics')).name).toBe('Jane Doe')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
