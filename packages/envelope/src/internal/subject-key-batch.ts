/**
 * The bulk operations of {@link createSubjectKeys}: creating many subjects' keys in one store call
 * (`ensureSubjects`) and rewrapping every active subject key under the KEK's primary after a KEK
 * rotation (`rewrapSubjectKeys`, no ciphertext touched).
 *
 * HIPAA: 164.312(a)(2)(iv) encryption (key rotation without re-encrypting data).
 */
import { KeyUnavailableError } from '../errors.js'
import type { NewSubjectKey, SubjectKeyRecord } from '../subject-key-store.js'
import { assertSubjectId, type SubjectRewrapResult } from '../subject-keys-types.js'
import { sameWrapped, subjectKeyAad, subjectRefOf } from './subject-crypto.js'
import {
  getNamespaceKey,
  markShredded,
  type SubjectKeysState,
  storeCall,
  wrapNew,
} from './subject-key-state.js'

/** Stores `entries` with the store's `createMany` where it has one, else one `create` each. */
function createAll(s: SubjectKeysState, entries: NewSubjectKey[], at: number): Promise<SubjectKeyRecord[]> {
  const createMany = s.store.createMany?.bind(s.store)
  if (createMany !== undefined) return storeCall('createMany', () => createMany(entries, at))
  return storeCall('create', async () => {
    const out: SubjectKeyRecord[] = []
    for (const e of entries) out.push(await s.store.create(e.ref, e.wrapped, at))
    return out
  })
}

/** `SubjectKeys.ensureSubjects`: creates the keys of the subjects that have none, in one batch. */
export async function ensureSubjects(s: SubjectKeysState, subjectIds: readonly string[]): Promise<void> {
  if (!Array.isArray(subjectIds)) throw new TypeError('"subjectIds" expected an array')
  const nsKey = await getNamespaceKey(s)
  const refs = new Map<string, string>()
  for (const id of subjectIds) {
    assertSubjectId(id)
    refs.set(subjectRefOf(nsKey, id), id)
  }
  const entries: NewSubjectKey[] = []
  const raws = new Map<string, Uint8Array>()
  for (const ref of refs.keys()) {
    if (s.cache.get(ref) !== undefined) continue
    const raw = s.random(32)
    raws.set(ref, raw)
    entries.push({ ref, wrapped: await wrapNew(s, ref, raw) })
  }
  const stored = await createAll(s, entries, s.clock.now())
  const mine = new Map(entries.map((e) => [e.ref, e.wrapped]))
  for (const rec of stored) {
    if (rec.state === 'shredded') markShredded(s, rec.ref)
    const raw = raws.get(rec.ref)
    const ours = mine.get(rec.ref)
    // Cache only the keys this call stored (a concurrent creator's record has other bytes).
    if (
      s.cache.enabled &&
      raw !== undefined &&
      ours !== undefined &&
      rec.wrapped !== undefined &&
      sameWrapped(rec.wrapped, ours)
    ) {
      s.cache.put(rec.ref, raw)
      raws.delete(rec.ref)
    }
  }
  for (const raw of raws.values()) raw.fill(0)
}

/** Rewraps one active record under `primaryRef`, counting the outcome in `result`. */
async function rewrapRecord(
  s: SubjectKeysState,
  rec: SubjectKeyRecord,
  primaryRef: string,
  result: SubjectRewrapResult,
): Promise<void> {
  const { kek } = s
  const w = rec.wrapped
  if (w === undefined) return
  if (w.providerId === kek.id && w.keyRef === primaryRef) {
    result.current++
    return
  }
  if (w.providerId !== kek.id) throw new KeyUnavailableError(w.keyRef, 'no-provider')
  const aad = subjectKeyAad(rec.ref)
  const raw = await kek.unwrap(w.edk, w.keyRef, aad)
  try {
    const next = await kek.wrap(raw, aad, { keyRef: primaryRef })
    const ok = await storeCall('replaceWrapped', () =>
      s.store.replaceWrapped(rec.ref, w, { providerId: kek.id, keyRef: next.keyRef, edk: next.edk }),
    )
    if (ok) result.rewrapped++
    else result.skipped++
  } finally {
    raw.fill(0)
  }
}

/** `SubjectKeys.rewrapSubjectKeys`: every active subject key under the KEK's primary, page by page. */
export async function rewrapSubjectKeys(
  s: SubjectKeysState,
  opts?: { batchSize?: number },
): Promise<SubjectRewrapResult> {
  const batchSize = opts?.batchSize ?? 500
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > 100_000)
    throw new RangeError('"batchSize" expected an integer in 1..100000')
  const primary = await s.kek.primary()
  const result: SubjectRewrapResult = { rewrapped: 0, current: 0, skipped: 0 }
  let after: string | undefined
  for (;;) {
    const page = await storeCall('listActive', () => s.store.listActive(after, batchSize))
    for (const rec of page) await rewrapRecord(s, rec, primary.keyRef, result)
    if (page.length < batchSize) break
    after = page[page.length - 1]?.ref
  }
  return result
}
