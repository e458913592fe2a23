/**
 * `@safeguards/pkcs11`: a KEK provider for `@safeguards/envelope` backed by an HSM through
 * PKCS#11. Key-encryption keys are AES-256 token objects that never leave the token; data keys are
 * wrapped and unwrapped inside it with AES-256-GCM bound to the envelope's encryption context.
 *
 * @packageDocumentation
 */
export type { Pkcs11ErrorCode, Pkcs11LoginReason } from './errors.js'
export {
  Pkcs11ClosedError,
  Pkcs11Error,
  Pkcs11KeyPolicyError,
  Pkcs11LoginError,
  Pkcs11MechanismError,
  Pkcs11ModuleError,
  Pkcs11TokenNotFoundError,
} from './errors.js'
export type {
  Pkcs11ProviderOptions,
  TokenDescription,
  TokenSelector,
} from './pkcs11-kek-provider.js'
export { Pkcs11KekProvider } from './pkcs11-kek-provider.js'
