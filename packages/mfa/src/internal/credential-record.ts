/**
 * The stored credential record of {@link createTotpAuthenticator}: one JSON value per user (key
 * `cred:<userId>`) holding the active credential and the pending enrollment, each with its sealed
 * secret. Read with a shape check (a corrupted record is a store error, never a login), changed
 * only through the compare-and-set loop.
 *
 * @module
 */
import { MfaStoreError } from '../errors.js'
import type { MfaStore } from '../store.js'
import { casUpdate } from './cas.js'

/** A credential: its id, its sealed secret (base64url) and when it was created. */
export interface Cred {
  id: string
  sealed: string
  createdAt: number
}
/** A user's credential record. */
export interface CredentialRecord {
  active?: Cred
  pending?: Cred & { expiresAt: number }
}

const credKey = (userId: string): string => `cred:${userId}`

/** The throttle key of a user's TOTP and recovery-code failures. */
export const userThrottle = (userId: string): string => `user:${userId}`

function isCred(c: unknown): c is Cred {
  const x = c as Cred
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof x.id === 'string' &&
    typeof x.sealed === 'string' &&
    Number.isSafeInteger(x.createdAt)
  )
}

function parseRecord(raw: string | null): CredentialRecord {
  if (raw === null) return {}
  let v: CredentialRecord
  try {
    v = JSON.parse(raw) as CredentialRecord
  } catch (cause) {
    throw new MfaStoreError('credential record is not valid JSON', { cause })
  }
  if (typeof v !== 'object' || v === null)
    throw new MfaStoreError('credential record has an unexpected shape')
  if (v.active !== undefined && !isCred(v.active))
    throw new MfaStoreError('credential record has an unexpected shape')
  if (v.pending !== undefined && (!isCred(v.pending) || !Number.isSafeInteger(v.pending.expiresAt)))
    throw new MfaStoreError('credential record has an unexpected shape')
  return v
}

/** The user's credential record (empty when there is none). @throws {MfaStoreError} when malformed. */
export async function readRecord(store: MfaStore, userId: string): Promise<CredentialRecord> {
  return parseRecord(await store.get(credKey(userId)))
}

/**
 * Applies `change` to the user's record until its write wins; `undefined` from `change` writes
 * nothing, and an empty record deletes the key.
 */
export function updateRecord(
  store: MfaStore,
  userId: string,
  change: (r: CredentialRecord) => CredentialRecord | undefined,
): Promise<CredentialRecord | undefined> {
  return casUpdate<CredentialRecord | undefined>(store, credKey(userId), 'credential', (raw) => {
    const next = change(parseRecord(raw))
    if (next === undefined) return { result: undefined }
    const empty = next.active === undefined && next.pending === undefined
    return { result: next, next: empty ? null : JSON.stringify(next) }
  })
}
