/**
 * `@safeguards/backup`: backup sets as BagIt 1.0 bags (RFC 8493) with a signed attestation, and a
 * fail-closed verifier (paths, signature, completeness, integrity, decryptability, freshness,
 * restore tests) with sampled verification, a versioned JSON report and alert sinks.
 *
 * @packageDocumentation
 */

/** The receiving side of {@link webhookSink}: core's `verifyWebhookSignature`, re-exported. */
export { verifyWebhookSignature } from '@safeguards/core'
export type { Alert, AlertOutcome, AlertSink, WebhookSinkOptions } from './alerts.js'
export {
  alertFromReport,
  prometheusTextfileSink,
  sendAlerts,
  stderrSink,
  webhookSink,
} from './alerts.js'
export type {
  AttestationCheck,
  AttestationPayload,
  SignatureAlgorithm,
  SigningKey,
  VerificationKey,
} from './attestation.js'
export {
  ATTESTATION_FILE,
  ATTESTATION_TYPE,
  attestationDigest,
  DEFAULT_ALGORITHMS,
  decodeAttestationUnverified,
  generateSigningKeyPair,
  importSigningKey,
  importVerificationKeys,
  signAttestation,
  verifyAttestation,
} from './attestation.js'
export type { CreateBagOptions, CreateBagResult } from './create-bag.js'
export { createBag } from './create-bag.js'
export type { BackupErrorCode } from './errors.js'
export {
  BackupAlertError,
  BackupAttestationError,
  BackupDestinationError,
  BackupError,
  BackupKeyError,
  BackupSourceError,
  BackupStateError,
} from './errors.js'
export type { BackupExitCodeValue, Finding, FindingCode, Stage } from './findings.js'
export { BackupExitCode, exitCodeForFindings, STAGES } from './findings.js'
export type { PayloadCipher } from './payload-cipher.js'
export { payloadContext } from './payload-cipher.js'
export type { StageResult, VerifyReport } from './report.js'
export { REPORT_SCHEMA_VERSION } from './report.js'
export type { RestoreTest, RestoreTestContext } from './restore-test.js'
export { commandRestoreTest } from './restore-test.js'
export { verifyBag } from './verify-bag.js'
export type { VerifyOptions, VerifyProgress, VerifyResult } from './verify-options.js'
export type { ChainHead, FileCoverage, VerifyState } from './verify-state.js'
export { emptyVerifyState, loadVerifyState, saveVerifyState } from './verify-state.js'
export { BACKUP_VERSION } from './version.js'
