/**
 * `@safeguards/audit-log`: a tamper-evident audit log. Canonical JSON records in a hash chain,
 * an RFC 6962 Merkle tree with signed checkpoints and anchors, a durable JSON Lines file store,
 * keyed-HMAC pseudonyms and FHIR R4 AuditEvent export.
 *
 * @packageDocumentation
 */

export type { AnchoredCheckpoint, AnchorSink } from './anchor.js'
export { directoryAnchor } from './anchor.js'
export type {
  CheckpointBody,
  CheckpointSigner,
  Keyring,
  KeyringEntry,
  VerifiedCheckpoint,
} from './checkpoint.js'
export {
  CHECKPOINT_TYPE,
  checkpointHash,
  createCheckpointSigner,
  createKeyring,
  generateCheckpointKey,
  readCheckpointUnverified,
  signCheckpoint,
} from './checkpoint.js'
export type { AuditErrorCode, CheckpointErrorCode } from './errors.js'
export {
  AuditClosedError,
  AuditConflictError,
  AuditCorruptionError,
  AuditEventError,
  AuditKeyError,
  AuditLockTimeoutError,
  AuditStoreError,
  CheckpointError,
  CheckpointSignatureError,
  NonCanonicalInputError,
  UnknownCheckpointKeyError,
} from './errors.js'
export type { FhirAuditEvent } from './fhir.js'
export {
  checkFhirAuditEvent,
  fhirBundle,
  INTEGRITY_EXTENSION,
  storedToFhir,
  toFhirAuditEvent,
} from './fhir.js'
export type { FileStore, FileStoreOptions } from './file-store.js'
export { openFileStore } from './file-store.js'
export type { AppendResult, AuditLog, AuditLogOptions, Timers } from './log.js'
export { openAuditLog } from './log.js'
export {
  CompactRange,
  EMPTY_ROOT,
  leafHash,
  MerkleTree,
  nodeHash,
  verifyConsistency,
  verifyInclusion,
} from './merkle.js'
export type { BundleVerdict, ConsistencyBundle, InclusionBundle } from './prove.js'
export {
  proveConsistency,
  proveInclusion,
  proveInclusions,
  verifyConsistencyBundle,
  verifyInclusionBundle,
} from './prove.js'
export type { Pseudonymizer } from './pseudonym.js'
export { createPseudonymizer } from './pseudonym.js'
export type {
  AuditQuery,
  IndexAnswer,
  IndexQuery,
  QueriedRecord,
  QueryOptions,
  QueryResult,
} from './query.js'
export { queryLog } from './query.js'
export type {
  AuditAction,
  AuditAgent,
  AuditDetailValue,
  AuditEntity,
  AuditEvent,
  AuditNetwork,
  AuditOutcome,
  AuditRecord,
  AuditSource,
} from './record.js'
export { assertStreamId, encodeRecord, formatRecorded, RECORD_VERSION, validateEvent } from './record.js'
export type { AccessReport, AccessReportOptions, AccessReportQuery, AccessRow } from './report.js'
export { accessReport } from './report.js'
export type { AuditSinkOptions, AuditSinkRow } from './sink.js'
export { auditEventOf, auditSink, auditSinkTable } from './sink.js'
export type {
  AppendRecord,
  AuditStore,
  CheckpointHead,
  IndexProblem,
  ReadOptions,
  StoredCheckpoint,
  StoredRecord,
  StoreHead,
  TailRecovery,
} from './store.js'
export { ZERO_HASH } from './store.js'
export type { Finding, FindingCode, VerifyOptions, VerifyReport } from './verify.js'
export { verifyLog } from './verify.js'
