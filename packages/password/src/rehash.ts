/**
 * Our own rehash check. `argon2.needsRehash` answers "different from the options", so it would
 * rehash a stronger hash down to a weaker policy; this one answers "weaker than policy, or made
 * with another algorithm, version or pepper key".
 *
 * @module
 */
import { parsePhc } from './phc.js'

/** The costs and pepper a hash must meet. */
export interface RehashPolicy {
  memoryCost: number
  timeCost: number
  parallelism: number
  hashLength: number
  saltLength: number
  /** The current pepper key id, or undefined when no pepper is configured. */
  keyId?: string | undefined
}

/**
 * True when `phc` should be replaced by a fresh hash at the next successful login: not argon2id,
 * not version 19, any cost below `policy` (never because a cost is above it), a shorter hash or
 * salt, or a pepper key id other than the current one.
 *
 * HIPAA: 164.308(a)(5)(ii)(D) password management (stored verifiers are upgraded as policy
 * tightens).
 *
 * @throws {PasswordHashFormatError} (code `ERR_PASSWORD_HASH_FORMAT`) when `phc` is malformed.
 * @example
 * ```ts
 * passwordNeedsRehash('$argon2id$v=19$m=4096,t=3,p=1$…', { memoryCost: 19456, timeCost: 2, parallelism: 1, hashLength: 32, saltLength: 16 }) // true
 * ```
 */
export function passwordNeedsRehash(phc: string, policy: RehashPolicy): boolean {
  const h = parsePhc(phc)
  return (
    h.algorithm !== 'argon2id' ||
    h.version !== 19 ||
    h.memoryCost < policy.memoryCost ||
    h.timeCost < policy.timeCost ||
    h.parallelism < policy.parallelism ||
    h.hash.length < policy.hashLength ||
    h.salt.length < policy.saltLength ||
    h.keyId !== policy.keyId
  )
}
