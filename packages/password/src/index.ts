/**
 * `@safeguards/password`: argon2id password hashing (PHC strings, pepper with key id, our own
 * rehash check, dummy verify, bounded concurrency) and a NIST SP 800-63B rev 4 password policy.
 *
 * @packageDocumentation
 */

export { commonPasswords } from './blocklist.js'
export type { CalibrateOptions, CalibrateResult } from './calibrate.js'
export { calibrate } from './calibrate.js'
export type { PasswordErrorCode } from './errors.js'
export {
  PasswordConfigError,
  PasswordError,
  PasswordHasherBusyError,
  PasswordHashFormatError,
  PasswordInvalidTextError,
  PasswordTooLargeError,
  PepperKeyMissingError,
} from './errors.js'
export type {
  PasswordHasher,
  PasswordHasherOptions,
  PasswordVerifyOptions,
  PasswordVerifyResult,
  PepperKey,
} from './hasher.js'
export {
  createPasswordHasher,
  DEFAULT_ARGON2ID_COSTS,
  hashPassword,
  OWASP_ARGON2ID_FLOOR,
  verifyPassword,
} from './hasher.js'
export { DEFAULT_MAX_PASSWORD_BYTES, normalizePassword } from './normalize.js'
export type { PhcHash } from './phc.js'
export { formatPhc, parsePhc } from './phc.js'
export type {
  PasswordPolicyOptions,
  PasswordPolicyResult,
  PasswordProblem,
  PasswordProblemCode,
} from './policy.js'
export { checkPasswordPolicy } from './policy.js'
export type { RehashPolicy } from './rehash.js'
export { passwordNeedsRehash } from './rehash.js'
