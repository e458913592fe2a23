/**
 * The patient records: one JSON file per patient in the shared directory, every PHI field an
 * envelope (base64) bound to table, column and row. Seeding, loading, reading one chart section,
 * and rewrapping every field after a key rotation (headers only).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { base64ToBytes, bytesToBase64, utf8Decode, utf8Encode } from '@safeguards/core'
import type { Envelope } from '@safeguards/envelope'
import { FIELD_RESOURCE, PATIENTS } from './staff.js'
import { writeOnce } from './write-once.js'

interface PatientRecord {
  id: string
  /** Each PHI field is an envelope (base64), bound to table, column and row. */
  fields: Record<string, string>
}

/** The encrypted records in a directory. */
export interface Records {
  /** The record of patient `id`, or null when the id is malformed or there is no such record. */
  load(id: string): { readonly id: string; readonly fields: Readonly<Record<string, string>> } | null
  /** Decrypts the fields of one chart section (minimum necessary: only that section's fields). */
  section(
    record: { id: string; fields: Readonly<Record<string, string>> },
    type: string,
  ): Promise<Record<string, string>>
  /** Rewraps every field whose data key is not under the primary KEK; returns how many. */
  rewrapAll(): Promise<number>
}

/** The encryption context of one field: the ciphertext cannot move to another row or column. */
export const context = (row: string, column: string) => ({ table: 'patients', column, row })

/**
 * Opens the records in `dir`, seeding the demo patients once (the first instance to start writes
 * each record whole; the others keep it), every PHI field encrypted under its own data key.
 */
export async function openRecords(dir: string, envelope: Envelope): Promise<Records> {
  const path = (id: string): string => join(dir, `${id}.json`)
  for (const [id, fields] of Object.entries(PATIENTS)) {
    if (existsSync(path(id))) continue
    const enc: Record<string, string> = {}
    for (const [k, v] of Object.entries(fields))
      enc[k] = bytesToBase64(await envelope.encrypt(utf8Encode(v), context(id, k)))
    writeOnce(path(id), utf8Encode(JSON.stringify({ id, fields: enc } satisfies PatientRecord)))
  }
  return {
    load(id) {
      if (!/^p-[0-9]{1,6}$/.test(id)) return null
      try {
        return JSON.parse(readFileSync(path(id), 'utf8')) as PatientRecord
      } catch {
        return null
      }
    },
    async section(record, type) {
      const out: Record<string, string> = {}
      for (const [k, v] of Object.entries(record.fields))
        if (FIELD_RESOURCE[k] === type)
          out[k] = utf8Decode(await envelope.decrypt(base64ToBytes(v), context(record.id, k)))
      return out
    },
    async rewrapAll() {
      let rewrapped = 0
      for (const file of readdirSync(dir)) {
        const rec = JSON.parse(readFileSync(join(dir, file), 'utf8')) as PatientRecord
        for (const [k, v] of Object.entries(rec.fields)) {
          const ct = base64ToBytes(v)
          if (await envelope.needsRewrap(ct)) {
            rec.fields[k] = bytesToBase64(await envelope.rewrap(ct, context(rec.id, k)))
            rewrapped++
          }
        }
        writeFileSync(join(dir, file), JSON.stringify(rec), { mode: 0o600 })
      }
      return rewrapped
    },
  }
}
