/**
 * `@safeguards/audit-log`: a tamper-evident audit log. Canonical JSON records in a hash chain,
 * an RFC 6962 Merkle tree with signed checkpoints and anchors, a durable JSON Lines file store,
 * keyed-HMAC pseudonyms and FHIR R4 AuditEvent export.
 *
 * @packageDocumentation
 */
export type { AuditErrorCode } from './errors.js'
export {
  AuditClosedError,
  AuditConflictError,
  AuditCorruptionError,
  AuditEventError,
  AuditKeyError,
  AuditLockTimeoutError,
  AuditStoreError,
  CheckpointError,
  NonCanonicalInputError,
} from './errors.js'
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
export type {
  AppendRecord,
  AuditStore,
  CheckpointHead,
  ReadOptions,
  StoredCheckpoint,
  StoredRecord,
  StoreHead,
  TailRecovery,
} from './store.js'
export { ZERO_HASH } from './store.js'
