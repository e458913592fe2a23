/**
 * `@safeguards/mfa`: TOTP (RFC 6238, through otplib) with enrollment and QR codes, replay
 * defence, throttling and lockout, recovery codes, and secrets sealed at rest.
 *
 * @packageDocumentation
 */
export type {
  TotpAuthenticator,
  TotpAuthenticatorOptions,
  TotpEnrollment,
  TotpUserFailure,
} from './authenticator.js'
export { createTotpAuthenticator } from './authenticator.js'
export type { MfaErrorCode } from './errors.js'
export { MfaConfigError, MfaDependencyError, MfaError, MfaSealError, MfaStoreError } from './errors.js'
export type { QrPngOptions } from './qr.js'
export { qrPngDataUrl, qrSvg } from './qr.js'
export type { RecoveryCodeHasher, RecoveryRedeemResult } from './recovery-codes.js'
export type { RedisEvalClient, RedisStoreOptions } from './redis-store.js'
export { createRedisStore } from './redis-store.js'
export type { AesGcmSealerOptions, SecretSealer } from './sealer.js'
export { createAesGcmSealer, totpSealContext } from './sealer.js'
export { generateTotpSecret, secretFromBase32, secretToBase32 } from './secret.js'
export type { MemoryStoreOptions, MfaStore } from './store.js'
export { createMemoryStore } from './store.js'
export type { ThrottlePolicy, ThrottleReason, ThrottleStatus } from './throttle.js'
export { DEFAULT_THROTTLE_POLICY } from './throttle.js'
export type { TotpAlgorithm, TotpCodeOptions, TotpParameters } from './totp.js'
export { totpCode } from './totp.js'
export type { TotpUriOptions } from './uri.js'
export { totpUri } from './uri.js'
export type {
  TotpFailureReason,
  TotpVerifier,
  TotpVerifierOptions,
  TotpVerifyOptions,
  TotpVerifyResult,
} from './verifier.js'
export { createTotpVerifier } from './verifier.js'
