/**
 * The options and result of {@link verifyBag}.
 *
 * @module
 */
import type { Clock, EventOptions } from '@safeguards/core'
import type { SignatureAlgorithm, VerificationKey } from './attestation.js'
import type { PayloadCipher } from './payload-cipher.js'
import type { VerifyReport } from './report.js'
import type { RestoreTest } from './restore-test.js'
import type { VerifyState } from './verify-state.js'

/** Progress of a verification. */
export interface VerifyProgress {
  filesDone: number
  filesTotal: number
  bytesDone: number
  bytesTotal: number
}

/**
 * Options for {@link verifyBag}. `events` receives one `backup.verified` or `backup.failed` event
 * per run (see the README's Events section).
 */
export interface VerifyOptions extends EventOptions {
  /**
   * Public keys (from `importVerificationKeys`, at least one). Giving keys means a valid signature
   * by one of them is required: a bag without `attestation.jws` then fails with
   * `E_SIGNATURE_MISSING` (exit 3). Without keys the signature cannot be checked (see
   * `W_SIGNATURE_UNVERIFIED`).
   */
  publicKeys?: readonly VerificationKey[]
  /**
   * Fail (exit 3) when the bag has no attestation or it cannot be verified. Implied by
   * `publicKeys`: `false` does not turn the requirement off when keys are given.
   */
  requireSignature?: boolean
  /** Allowed signature algorithms (a subset of EdDSA, Ed25519, ES256). */
  algorithms?: readonly SignatureAlgorithm[]
  /** State from the previous run: chain heads and coverage. Updated state is returned. */
  state?: VerifyState
  /** Maximum age of the newest attestation (the RPO), in ms. */
  maxAgeMs?: number
  /** Allowed clock skew for timestamps in the future (default 5 minutes). */
  clockSkewMs?: number
  /** Decrypts encrypted payload files for the decryptability check. */
  cipher?: PayloadCipher
  /** Restore tests, run last. */
  restoreTests?: readonly RestoreTest[]
  /**
   * Payload manifests whose digests are checked (default: every manifest, as RFC 8493 validation
   * requires). Completeness still checks every manifest. Names absent from the bag are ignored;
   * if none is present, every manifest is checked. A run that skips a manifest is `partial`.
   */
  manifestAlgorithms?: readonly string[]
  /** Budget for content hashing: stop starting new files after this many bytes or ms. */
  budget?: { maxBytes?: number; maxMs?: number }
  /** Hashing worker threads (default: available parallelism). */
  concurrency?: number
  /** Largest tag file read (default 512 MiB). */
  maxTagFileBytes?: number
  /** Largest file given to the cipher in one piece (default 1 GiB). */
  maxDecryptBytes?: number
  /** Clock. */
  clock?: Clock
  /** Progress callback (content hashing). */
  onProgress?: (progress: VerifyProgress) => void
}

/** The result of {@link verifyBag}: the report, and the state to keep for the next run. */
export interface VerifyResult {
  report: VerifyReport
  state: VerifyState
}
