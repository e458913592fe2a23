/**
 * The state of one {@link createPasswordHasher} hasher (its checked options, pepper keys and
 * concurrency limit) and the argon2id operations on it: hashing into a PHC string, verifying a
 * parsed PHC hash (tags compared in constant time), and the pepper a stored hash needs.
 *
 * HIPAA: 164.308(a)(5)(ii)(D) password management.
 *
 * @module
 */
import {
  assertBytes,
  type Clock,
  type Emitter,
  type RandomSource,
  type Semaphore,
  timingSafeEqual,
} from '@safeguards/core'
import { PepperKeyMissingError } from '../errors.js'
import { formatPhc, type PhcHash } from '../phc.js'
import type { RehashPolicy } from '../rehash.js'
import { argon2Raw } from './argon2.js'

/** What one hasher holds. */
export interface HasherState {
  /** The costs and the current pepper key id new hashes are made with. */
  readonly policy: Readonly<RehashPolicy>
  /** Byte cap on passwords after NFKC. */
  readonly maxBytes: number
  /** Pepper keys by key id: the current one and the previous ones still accepted. */
  readonly peppers: ReadonlyMap<string, Uint8Array>
  readonly acceptUnpeppered: boolean
  readonly random: RandomSource
  /** Bounds the hashes computed at once (each holds `memoryCost` KiB). */
  readonly semaphore: Semaphore
  /** Isolated sinks never change a verification's result; a critical sink that fails fails the call. */
  readonly emitter: Emitter
  readonly clock: Clock
  /** The hash `dummyVerify` checks against (made on first use). */
  decoy: Promise<PhcHash> | undefined
}

/** The pepper a stored hash needs (undefined: none). @throws {PepperKeyMissingError} */
export function secretFor(s: HasherState, h: PhcHash): Uint8Array | undefined {
  if (h.keyId === undefined) {
    if (s.peppers.size > 0 && !s.acceptUnpeppered) throw new PepperKeyMissingError()
    return undefined
  }
  const key = s.peppers.get(h.keyId)
  if (key === undefined) throw new PepperKeyMissingError()
  return key
}

/** The current pepper, if one is configured. */
export function currentSecret(s: HasherState): Uint8Array | undefined {
  const keyId = s.policy.keyId
  return keyId === undefined ? undefined : s.peppers.get(keyId)
}

/** Hashes a normalised password with a fresh salt into an argon2id PHC string. */
export async function hashBytes(s: HasherState, password: Uint8Array): Promise<string> {
  const { memoryCost, timeCost, parallelism, hashLength, saltLength, keyId } = s.policy
  const salt = s.random(saltLength)
  assertBytes(salt, 'random(saltLength)', saltLength)
  const secret = currentSecret(s)
  const tag = await s.semaphore.run(() =>
    argon2Raw({
      type: 'argon2id',
      version: 19,
      password,
      salt,
      ...(secret ? { secret } : {}),
      memoryCost,
      timeCost,
      parallelism,
      hashLength,
    }),
  )
  return formatPhc({
    algorithm: 'argon2id',
    version: 19,
    memoryCost,
    timeCost,
    parallelism,
    ...(keyId === undefined ? {} : { keyId }),
    salt,
    hash: tag,
  })
}

/** True when `password` hashes to `h`'s tag under `h`'s parameters (compared in constant time). */
export async function verifyParsed(
  s: HasherState,
  h: PhcHash,
  password: Uint8Array,
  secret: Uint8Array | undefined,
): Promise<boolean> {
  const tag = await s.semaphore.run(() =>
    argon2Raw({
      type: h.algorithm,
      version: h.version,
      password,
      salt: h.salt,
      ...(secret ? { secret } : {}),
      memoryCost: h.memoryCost,
      timeCost: h.timeCost,
      parallelism: h.parallelism,
      hashLength: h.hash.length,
    }),
  )
  return timingSafeEqual(tag, h.hash)
}
