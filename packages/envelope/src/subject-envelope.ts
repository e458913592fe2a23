/**
 * An envelope whose data keys are wrapped under per-subject keys: `encrypt(subjectId, …)` wraps
 * under that subject's key (created on first use), `decrypt` opens any subject's message, and a
 * shredded subject's messages fail with `SubjectShreddedError` (`ERR_SUBJECT_SHREDDED`). The
 * envelope format is unchanged: the header names `subject:<ref>@v1`, an opaque reference.
 *
 * HIPAA: 164.312(a)(2)(iv) encryption and decryption; 164.310(d)(2)(i) disposal (through
 * `shredSubject`).
 *
 * @module
 */
import { randomBytes } from '@safeguards/core'
import { createEnvelope, type EncryptionContext, type Envelope, type EnvelopeOptions } from './envelope.js'
import type { EnvelopeInfo } from './format.js'
import { pooledRandom } from './internal/random-pool.js'
import type { SubjectKeys } from './subject-keys-types.js'

/** How many per-subject envelopes {@link createSubjectEnvelope} keeps (they hold no keys). */
const RECENT_SUBJECTS = 256

/**
 * Options of {@link createSubjectEnvelope}: those of `createEnvelope` except the providers (the
 * subject keys are the only one, so no other wrapped key can open a shredded subject's message)
 * and the data-key cache (subject keys have their own cache, with its TTL).
 */
export interface SubjectEnvelopeOptions
  extends Omit<EnvelopeOptions, 'provider' | 'providers' | 'dataKeyCache'> {
  /** The per-subject keys (from {@link createSubjectKeys}). */
  subjects: SubjectKeys
}

/** An envelope over per-subject keys. */
export interface SubjectEnvelope {
  /** Encrypts under a fresh data key wrapped under `subjectId`'s key (created on first use). */
  encrypt(subjectId: string, plaintext: Uint8Array, context: EncryptionContext): Promise<Uint8Array>
  /** Decrypts a message of any subject; `context` must equal the one used to encrypt. */
  decrypt(ciphertext: Uint8Array, context: EncryptionContext): Promise<Uint8Array>
  /** The header summary, without keys; `keys[0].keyRef` is the subject key's opaque reference. */
  inspect(ciphertext: Uint8Array): EnvelopeInfo
}

/**
 * Creates an envelope over per-subject keys.
 *
 * HIPAA: 164.312(a)(2)(iv) encryption and decryption, per subject; 164.310(d)(2)(i) disposal
 * (a shredded subject's messages fail with `ERR_SUBJECT_SHREDDED`).
 *
 * @hipaa 164.312(a)(2)(iv) implements
 * @hipaa 164.310(d)(2)(i) supports
 * @nist SC-28 164.312(a)(2)(iv): each subject's fields are encrypted under data keys wrapped by that subject's own key
 * @verifiedBy packages/envelope/test/subject-keys.test.ts
 * @throws {TypeError} when `subjects` is missing or an envelope option is invalid.
 * @throws {SubjectShreddedError} from `encrypt` and `decrypt` when the subject was shredded.
 * @example
 * ```ts
 * import { createSubjectEnvelope, createSubjectKeys, LocalKeyring, memorySubjectKeyStore } from '@safeguards/envelope'
 *
 * const subjects = createSubjectKeys({ kek: await LocalKeyring.inMemory(), store: memorySubjectKeyStore() })
 * const envelope = createSubjectEnvelope({ subjects })
 * const ct = await envelope.encrypt('patient-17', utf8Encode('555-0100'), { column: 'phone' })
 * const pt = await envelope.decrypt(ct, { column: 'phone' })
 * ```
 */
export function createSubjectEnvelope(options: SubjectEnvelopeOptions): SubjectEnvelope {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" expected an object')
  const { subjects, ...rest } = options
  if (typeof subjects?.forSubject !== 'function') throw new TypeError('"subjects" expected SubjectKeys')
  // One random pool for every per-subject envelope this creates (each encrypt builds a light one).
  const base: EnvelopeOptions = { ...rest, random: rest.random ?? pooledRandom(randomBytes) }
  const opener = createEnvelope({ ...base, provider: subjects.provider })
  // The envelopes of the subjects encrypted most recently (a field-by-field loop over one subject
  // builds one envelope and computes its reference once). They hold no key material.
  const recent = new Map<string, Envelope>()
  const envelopeOf = (subjectId: string): Envelope => {
    let env = recent.get(subjectId)
    if (env === undefined) {
      env = createEnvelope({ ...base, provider: subjects.forSubject(subjectId) })
      if (recent.size >= RECENT_SUBJECTS) recent.delete(recent.keys().next().value as string)
      recent.set(subjectId, env)
    }
    return env
  }
  return {
    encrypt(subjectId, plaintext, context) {
      let env: Envelope
      try {
        env = envelopeOf(subjectId)
      } catch (e) {
        return Promise.reject(e)
      }
      return env.encrypt(plaintext, context)
    },
    decrypt: (ciphertext, context) => opener.decrypt(ciphertext, context),
    inspect: (ciphertext) => opener.inspect(ciphertext),
  }
}
