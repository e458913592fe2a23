/**
 * Finding a patient by phone number without decrypting every record: a blind index
 * (`@safeguards/envelope`, after CipherSweet). Each record keeps `phone_bidx` beside its encrypted
 * fields: a keyed HMAC-SHA-256 of the phone number in E.164 form (`normalizePhone`), truncated to
 * {@link PHONE_INDEX_BITS} bits. A lookup hashes the number typed the same way, takes the records
 * with that index value (candidates, from a map built when the clinic opens), decrypts each
 * candidate's phone and compares it in constant time: only real matches are returned, so the false
 * candidates that truncation adds are harmless.
 *
 * Keys: the index root key is 32 random bytes wrapped by the clinic's keyring (a `KekProvider`),
 * stored as `blind-index-key.json` beside `keyring.json` in the shared directory, generated once
 * (the first instance to start writes it; every instance opens the same one), rewrapped under the
 * new primary when the admin rotates the KEK (index values do not change).
 *
 * What `phone_bidx` leaks to whoever reads the records directory: which patients probably share a
 * phone number, and how many share each index value; nothing else without the key.
 *
 * HIPAA: 164.312(a)(2)(iv) encryption (the phone stays encrypted while searchable); 164.312(b) every
 * search is recorded (`record.accessed`, action `search`), never with the number searched;
 * 164.502(b) minimum necessary (the route returns patient ids only).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { base64ToBytes, isSafeguardsError, timingSafeEqual, utf8Decode, utf8Encode } from '@safeguards/core'
import { writeFileAtomic } from '@safeguards/core/node'
import {
  type BlindIndex,
  type BlindIndexKey,
  createBlindIndex,
  type Envelope,
  generateBlindIndexKey,
  type KekProvider,
  normalizePhone,
  openBlindIndexKey,
  rewrapBlindIndexKey,
  suggestBlindIndexBits,
  type WrappedBlindIndexKey,
} from '@safeguards/envelope'
import { CLINIC_SOURCE, type ClinicApp, type ClinicServices } from './context.js'
import { context as fieldContext } from './records.js'
import { subjectOf } from './routes/charts.js'
import { TENANT } from './staff.js'
import { writeOnce } from './write-once.js'

/**
 * The number of patients the phone index is sized for: a practice of a few physicians (about
 * 2,000 patients each). The width is fixed when records are indexed (another width gives other
 * values, so changing it is a re-index), hence chosen for the size the clinic plans for, not for
 * today's four demo patients.
 */
export const PLANNED_PATIENTS = 10_000

/**
 * The bits kept by the phone index: the widest that CipherSweet's rule allows for
 * {@link PLANNED_PATIENTS} (`suggestBlindIndexBits(10_000)` is 7..12: at least 2 patients per
 * index value, at most √rows). At 12 bits a lookup among 10,000 patients decrypts the match and
 * about 2.4 false candidates (`blindIndexFalseCandidates(12, 10_000)`); until the clinic nears
 * that size most values belong to one patient, which the seeded demo data accepts.
 */
export const PHONE_INDEX_BITS: number = suggestBlindIndexBits(PLANNED_PATIENTS).max

/** The name of the phone index (part of its key derivation). */
export const PHONE_INDEX_NAME = 'patients.phone'

/** The file name of the wrapped root key, in the shared directory beside `keyring.json`. */
export const BLIND_INDEX_KEY_FILE = 'blind-index-key.json'

/**
 * Opens the blind-index root key wrapped in `path`, generating and writing it first when there is
 * none (once: when two instances start together, one file wins and both open it).
 */
export async function openOrCreateIndexKey(path: string, keyring: KekProvider): Promise<BlindIndexKey> {
  if (!existsSync(path)) {
    const { key, wrapped } = await generateBlindIndexKey(keyring)
    if (writeOnce(path, utf8Encode(JSON.stringify(wrapped)))) return key
    key.destroy() // another instance wrote its key first: use that one
  }
  return openBlindIndexKey(keyring, JSON.parse(readFileSync(path, 'utf8')) as WrappedBlindIndexKey)
}

/** Rewraps the root key in `path` under the keyring's primary KEK (after a rotation); returns its key reference. */
export async function rewrapIndexKey(path: string, keyring: KekProvider): Promise<string> {
  const next = await rewrapBlindIndexKey(
    keyring,
    JSON.parse(readFileSync(path, 'utf8')) as WrappedBlindIndexKey,
  )
  await writeFileAtomic(path, utf8Encode(JSON.stringify(next)), { mode: 0o600 })
  return next.keyRef
}

/** What a lookup found. */
export interface PhoneLookup {
  /** Ids of the patients whose decrypted phone equals the number searched, sorted. */
  ids: string[]
  /** How many records the index returned (matches and false candidates), each decrypted. */
  candidates: number
}

/** Patients by phone number. */
export interface PatientSearch {
  /**
   * The patients whose phone is `phone`, in any format `normalizePhone` accepts.
   *
   * @throws {BlindIndexInputError} when `phone` is not a phone number.
   * @throws the envelope's error when a candidate's phone does not decrypt.
   */
  byPhone(phone: string): Promise<PhoneLookup>
  /**
   * Drops patient `id` from the lookup map (after a shred: its record no longer has a
   * `phone_bidx`, which is what other instances check, since their maps still name it).
   */
  forget(id: string): void
  /** The phone index (for tests). */
  readonly index: BlindIndex<string>
}

interface StoredRecord {
  id: string
  fields: Record<string, string>
  phone_bidx?: string
  /** The patient was shredded (`records.ts`): not findable, its fields unreadable. */
  shredded?: true
}

/** Whether `e` says the patient's key was destroyed (shredded, perhaps by another instance). */
const isShredded = (e: unknown): boolean => isSafeguardsError(e, 'ERR_SUBJECT_SHREDDED')

/**
 * Opens the phone search over the records in `dir`: indexes every record that has no `phone_bidx`
 * yet (the seeded ones, or records written before the index existed: their phone is decrypted and
 * the record rewritten whole), then builds the map from index values to record ids. Records are
 * created only at seeding, so the map stays complete for the life of the process; a rewrap changes
 * ciphertexts, never index values, so it does not need a rebuild.
 *
 * @param options.bits - the index width (default {@link PHONE_INDEX_BITS}; tests force collisions with 1).
 */
export async function openPatientSearch(options: {
  dir: string
  key: BlindIndexKey
  envelope: Envelope
  bits?: number
}): Promise<PatientSearch> {
  const { dir, envelope } = options
  const index = createBlindIndex({
    key: options.key,
    name: PHONE_INDEX_NAME,
    bits: options.bits ?? PHONE_INDEX_BITS,
    normalize: normalizePhone,
    tenant: TENANT,
  })
  const decryptPhone = async (record: StoredRecord): Promise<Uint8Array | null> => {
    const ct = record.fields.phone
    if (ct === undefined) return null
    return envelope.decrypt(base64ToBytes(ct), fieldContext(record.id, 'phone'))
  }
  const byValue = new Map<string, string[]>()
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const path = join(dir, file)
    const record = JSON.parse(readFileSync(path, 'utf8')) as StoredRecord
    if (record.shredded) continue // erased on request: never findable again
    if (record.phone_bidx === undefined) {
      let phone: Uint8Array | null
      try {
        phone = await decryptPhone(record)
      } catch (e) {
        if (isShredded(e)) continue // shredded by another instance, not yet marked
        throw e
      }
      if (phone === null) continue // no phone: not findable by phone
      try {
        record.phone_bidx = index.compute(utf8Decode(phone))
      } catch (e) {
        if (isSafeguardsError(e, 'ERR_BLIND_INDEX_INPUT')) continue // not a phone number: not findable
        throw e
      } finally {
        phone.fill(0)
      }
      await writeFileAtomic(path, utf8Encode(JSON.stringify(record)), { mode: 0o600 })
    }
    byValue.set(record.phone_bidx, [...(byValue.get(record.phone_bidx) ?? []), record.id])
  }
  return {
    index,
    forget(id) {
      for (const [value, ids] of byValue) {
        const rest = ids.filter((x) => x !== id)
        if (rest.length === 0) byValue.delete(value)
        else if (rest.length !== ids.length) byValue.set(value, rest)
      }
    },
    async byPhone(phone) {
      const wanted = utf8Encode(normalizePhone(phone))
      const ids: string[] = []
      let candidates = 0
      for (const value of index.lookup(phone))
        for (const id of byValue.get(value) ?? []) {
          let record: StoredRecord
          try {
            record = JSON.parse(readFileSync(join(dir, `${id}.json`), 'utf8')) as StoredRecord
          } catch {
            continue // removed since the clinic opened
          }
          // Shredded since this map was built (here or on another instance): not a row any more.
          if (record.shredded || record.phone_bidx !== value) continue
          candidates++
          let plain: Uint8Array | null
          try {
            plain = await decryptPhone(record)
          } catch (e) {
            if (isShredded(e)) continue // its key is gone: the record is being marked
            throw e
          }
          if (plain === null) continue
          const normalised = utf8Encode(normalizePhone(utf8Decode(plain)))
          plain.fill(0)
          if (normalised.length === wanted.length && timingSafeEqual(normalised, wanted)) ids.push(id)
        }
      return { ids: ids.sort(), candidates }
    },
  }
}

/**
 * Mounts `GET /api/patients?phone=...`: the policy decides `search` on `Patient` (front desk,
 * nurses, physicians); the lookup runs; one `record.accessed` record (action `search`, FHIR
 * `search-type`) is written with its real outcome before the answer, through the critical audit
 * sink (503 and no ids when it cannot be written). The record carries the counts of matches and
 * candidates and, when exactly one patient matched, that patient (pseudonymised by the sink);
 * never the number searched. The answer is the matching patient ids only.
 */
export function mountPatientSearchRoutes(app: ClinicApp, s: ClinicServices, search: PatientSearch): void {
  app.get('/api/patients', async (c) => {
    const user = c.get('user')
    const decision = s.pdp.decide({
      subject: subjectOf(user),
      action: 'search',
      resource: { type: 'Patient', tenant: TENANT },
    })
    if (!decision.allowed) return c.json({ error: 'forbidden', reason: decision.reason }, 403)
    const phone = c.req.query('phone')
    let found: PhoneLookup | undefined
    let failure: string | undefined
    if (phone === undefined || phone.length === 0) failure = 'missing_phone'
    else
      try {
        found = await search.byPhone(phone)
      } catch (e) {
        failure = isSafeguardsError(e) ? e.code : 'search_failed'
      }
    const only = found?.ids.length === 1 ? found.ids[0] : undefined
    await s.events.emit({
      type: 'record.accessed',
      at: s.clock.now(),
      source: CLINIC_SOURCE,
      outcome: found ? 'success' : 'failure',
      actor: user.id,
      ...(only === undefined ? {} : { subject: only }),
      code: failure ?? decision.reason,
      action: 'search',
      resourceType: 'Patient',
      tenant: TENANT,
      ...(found ? { counts: { matches: found.ids.length, candidates: found.candidates } } : {}),
    })
    if (found) return c.json({ patients: found.ids })
    const bad = failure === 'missing_phone' || failure === 'ERR_BLIND_INDEX_INPUT'
    return c.json({ error: bad ? 'bad_request' : 'search_failed', code: failure }, bad ? 400 : 500)
  })
}
