/**
 * The patient records: one JSON file per patient in the shared directory, every PHI field an
 * envelope (base64) bound to table, column and row, its data key wrapped under the patient's own
 * subject key (`subject-keys.ts`). Seeding, loading, reading one chart section, rewrapping after a
 * key rotation (the subject keys only: no field changes), and marking a shredded patient's record.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { base64ToBytes, bytesToBase64, utf8Decode, utf8Encode } from '@safeguards/core'
import { writeFileAtomic } from '@safeguards/core/node'
import type { Envelope, SubjectEnvelope, SubjectKeys } from '@safeguards/envelope'
import { FIELD_RESOURCE, PATIENTS } from './staff.js'
import { writeOnce } from './write-once.js'

interface PatientRecord {
  id: string
  /** Each PHI field is an envelope (base64), bound to table, column and row. */
  fields: Record<string, string>
  /** The phone's blind index (`patient-search.ts`); dropped when the patient is shredded. */
  phone_bidx?: string
  /** Set when the patient's key was destroyed: the fields stay, unreadable for good. */
  shredded?: true
}

/** How the records are encrypted and opened. */
export interface RecordKeys {
  /** Writes each patient's fields under that patient's subject key. */
  readonly subjects: SubjectEnvelope
  /** The per-patient keys (their rewrap after a KEK rotation). */
  readonly keys: SubjectKeys
  /** Opens any field: under a subject key, or (written before subject keys) under the keyring. */
  readonly reader: Envelope
  /** The keyring alone, for rewrapping fields still wrapped under it. */
  readonly legacy: { readonly envelope: Envelope; readonly providerId: string }
}

/** What a rewrap after a KEK rotation changed. */
export interface RewrapCounts {
  /** Fields rewrapped (headers only): those written under the keyring before subject keys. */
  fields: number
  /** Subject keys (and their namespace key) rewrapped under the new primary: no field changes. */
  subjectKeys: number
}

/** The encrypted records in a directory. */
export interface Records {
  /** The record of patient `id`, or null when the id is malformed or there is no such record. */
  load(id: string): {
    readonly id: string
    readonly fields: Readonly<Record<string, string>>
    readonly shredded?: true
  } | null
  /** Decrypts the fields of one chart section (minimum necessary: only that section's fields). */
  section(
    record: { id: string; fields: Readonly<Record<string, string>> },
    type: string,
  ): Promise<Record<string, string>>
  /** Rewraps the subject keys, and any field still under an old keyring version; says how many. */
  rewrapAll(): Promise<RewrapCounts>
  /**
   * Marks patient `id`'s record shredded, after its key was destroyed: drops its blind index
   * (`phone_bidx`) and keeps its fields, which no key opens any more. False when there is no record.
   */
  markShredded(id: string): Promise<boolean>
}

/** The encryption context of one field: the ciphertext cannot move to another row or column. */
export const context = (row: string, column: string) => ({ table: 'patients', column, row })

/**
 * Moves every field still wrapped under the keyring itself (written before per-patient keys) under
 * its patient's subject key: decrypted and encrypted again, the record rewritten whole. Without
 * it, shredding such a patient would leave those fields readable. Shredded records are left alone.
 */
async function moveToSubjectKeys(dir: string, keys: RecordKeys): Promise<void> {
  const { envelope: legacy, providerId } = keys.legacy
  for (const file of readdirSync(dir).filter((f) => /^p-[0-9]{1,6}\.json$/.test(f))) {
    const rec = JSON.parse(readFileSync(join(dir, file), 'utf8')) as PatientRecord
    if (rec.shredded) continue
    let moved = false
    for (const [k, v] of Object.entries(rec.fields)) {
      const ct = base64ToBytes(v)
      if (!legacy.inspect(ct).keys.some((e) => e.providerId === providerId)) continue
      const pt = await keys.reader.decrypt(ct, context(rec.id, k))
      try {
        rec.fields[k] = bytesToBase64(await keys.subjects.encrypt(rec.id, pt, context(rec.id, k)))
      } finally {
        pt.fill(0)
      }
      moved = true
    }
    if (moved) await writeFileAtomic(join(dir, file), utf8Encode(JSON.stringify(rec)), { mode: 0o600 })
  }
}

/**
 * Opens the records in `dir`, seeding the demo patients once (the first instance to start writes
 * each record whole; the others keep it), every PHI field encrypted under its own data key.
 */
export async function openRecords(dir: string, keys: RecordKeys): Promise<Records> {
  const path = (id: string): string => join(dir, `${id}.json`)
  for (const [id, fields] of Object.entries(PATIENTS)) {
    if (existsSync(path(id))) continue
    const enc: Record<string, string> = {}
    for (const [k, v] of Object.entries(fields))
      enc[k] = bytesToBase64(await keys.subjects.encrypt(id, utf8Encode(v), context(id, k)))
    writeOnce(path(id), utf8Encode(JSON.stringify({ id, fields: enc } satisfies PatientRecord)))
  }
  await moveToSubjectKeys(dir, keys)
  const load = (id: string): PatientRecord | null => {
    if (!/^p-[0-9]{1,6}$/.test(id)) return null
    try {
      return JSON.parse(readFileSync(path(id), 'utf8')) as PatientRecord
    } catch {
      return null
    }
  }
  const { envelope: legacy, providerId } = keys.legacy
  return {
    load,
    async section(record, type) {
      const out: Record<string, string> = {}
      for (const [k, v] of Object.entries(record.fields))
        if (FIELD_RESOURCE[k] === type)
          out[k] = utf8Decode(await keys.reader.decrypt(base64ToBytes(v), context(record.id, k)))
      return out
    },
    async rewrapAll() {
      const subjectKeys = (await keys.keys.rewrapSubjectKeys()).rewrapped
      let fields = 0
      for (const file of readdirSync(dir)) {
        const rec = JSON.parse(readFileSync(join(dir, file), 'utf8')) as PatientRecord
        let changed = false
        for (const [k, v] of Object.entries(rec.fields)) {
          const ct = base64ToBytes(v)
          const underKeyring = legacy.inspect(ct).keys.some((e) => e.providerId === providerId)
          if (underKeyring && (await legacy.needsRewrap(ct))) {
            rec.fields[k] = bytesToBase64(await legacy.rewrap(ct, context(rec.id, k)))
            fields++
            changed = true
          }
        }
        if (changed) writeFileSync(join(dir, file), JSON.stringify(rec), { mode: 0o600 })
      }
      return { fields, subjectKeys }
    },
    async markShredded(id) {
      const rec = load(id)
      if (rec === null) return false
      const { phone_bidx: _dropped, ...rest } = rec
      await writeFileAtomic(path(id), utf8Encode(JSON.stringify({ ...rest, shredded: true })), {
        mode: 0o600,
      })
      return true
    },
  }
}
