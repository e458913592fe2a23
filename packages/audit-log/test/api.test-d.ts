/**
 * The public API's types, checked by Vitest typecheck (and by `tsc -p tsconfig.test.json`): a
 * breaking change to an exported signature fails CI here before a user's build does.
 */
import type { EventSink, SafeguardEventType } from '@safeguards/core'
import { describe, expectTypeOf, test } from 'vitest'
import type { ErrorCodes } from '../../../scripts/test-support/error-codes.js'
import {
  type AccessReport,
  type AppendResult,
  type AuditCorruptionError,
  type AuditEvent,
  type AuditLog,
  type AuditQuery,
  type AuditSinkOptions,
  type AuditSinkRow,
  type AuditStore,
  accessReport,
  auditEventOf,
  auditSink,
  auditSinkTable,
  type BundleVerdict,
  type CheckpointErrorCode,
  createPseudonymizer,
  type FhirAuditEvent,
  type FileStore,
  type FileStoreOptions,
  type Finding,
  type InclusionBundle,
  type IndexAnswer,
  type IndexProblem,
  type IndexQuery,
  type Keyring,
  openAuditLog,
  openFileStore,
  type Pseudonymizer,
  proveInclusion,
  proveInclusions,
  type QueriedRecord,
  type QueryOptions,
  type QueryResult,
  queryLog,
  type ReadOptions,
  type StoredRecord,
  storedToFhir,
  type VerifyOptions,
  type VerifyReport,
  validateEvent,
  verifyInclusion,
  verifyInclusionBundle,
  verifyLog,
} from '../src/index.js'

describe('@safeguards/audit-log public types', () => {
  test('audit sink', () => {
    expectTypeOf(auditSink).parameters.toEqualTypeOf<[Pick<AuditLog, 'append'>, AuditSinkOptions]>()
    expectTypeOf(auditSink).returns.toEqualTypeOf<EventSink>()
    expectTypeOf(auditEventOf).returns.toEqualTypeOf<AuditEvent>()
    expectTypeOf(auditSinkTable).toEqualTypeOf<Readonly<Record<SafeguardEventType, AuditSinkRow>>>()
    expectTypeOf<AuditSinkOptions['source']>().toEqualTypeOf<string>()
    expectTypeOf<AuditSinkOptions['pseudonymize']>().toEqualTypeOf<Pseudonymizer | undefined>()
    expectTypeOf<AuditSinkOptions['critical']>().toEqualTypeOf<boolean | undefined>()
  })
  test('log and stores', () => {
    expectTypeOf(openAuditLog).returns.resolves.toEqualTypeOf<AuditLog>()
    expectTypeOf<AuditLog['append']>().parameters.toEqualTypeOf<[AuditEvent | string]>()
    expectTypeOf<AuditLog['append']>().returns.resolves.toEqualTypeOf<AppendResult>()
    expectTypeOf(openFileStore).parameter(0).toEqualTypeOf<FileStoreOptions>()
    expectTypeOf(openFileStore).returns.resolves.toEqualTypeOf<FileStore>()
    expectTypeOf<FileStore>().toMatchTypeOf<AuditStore>()
    expectTypeOf(validateEvent).returns.toEqualTypeOf<AuditEvent>()
    expectTypeOf(createPseudonymizer).returns.toEqualTypeOf<Pseudonymizer>()
  })
  test('queries', () => {
    expectTypeOf(queryLog).parameters.toEqualTypeOf<[AuditStore, AuditQuery, QueryOptions?]>()
    expectTypeOf(queryLog).returns.resolves.toEqualTypeOf<QueryResult>()
    expectTypeOf<AuditLog['query']>().returns.resolves.toEqualTypeOf<QueryResult>()
    expectTypeOf<QueryResult>().toMatchTypeOf<AsyncIterable<QueriedRecord>>()
    expectTypeOf(accessReport).returns.resolves.toEqualTypeOf<AccessReport>()
    expectTypeOf(proveInclusions).returns.resolves.toEqualTypeOf<InclusionBundle[]>()
    expectTypeOf<AuditStore['queryIndex']>().toEqualTypeOf<
      ((query: IndexQuery) => Promise<IndexAnswer | undefined>) | undefined
    >()
    expectTypeOf<AuditStore['checkIndex']>().toEqualTypeOf<
      ((size: number, options?: ReadOptions) => Promise<readonly IndexProblem[]>) | undefined
    >()
    expectTypeOf<FileStoreOptions['index']>().toEqualTypeOf<boolean | undefined>()
    expectTypeOf<IndexProblem['severity']>().toEqualTypeOf<'error' | 'warning'>()
    expectTypeOf<'INDEX_MISMATCH'>().toMatchTypeOf<Finding['code']>()
  })
  test('verification and proofs', () => {
    expectTypeOf(verifyLog).parameters.toEqualTypeOf<[AuditStore, VerifyOptions?]>()
    expectTypeOf(verifyLog).returns.resolves.toEqualTypeOf<VerifyReport>()
    expectTypeOf<VerifyOptions['events']>().toEqualTypeOf<EventSink | readonly EventSink[] | undefined>()
    expectTypeOf<VerifyOptions['keyring']>().toEqualTypeOf<Keyring | undefined>()
    expectTypeOf(proveInclusion).returns.resolves.toEqualTypeOf<InclusionBundle>()
    expectTypeOf(verifyInclusionBundle).returns.resolves.toEqualTypeOf<BundleVerdict>()
    expectTypeOf(verifyInclusion).returns.toBeBoolean()
    expectTypeOf(storedToFhir).parameter(0).toEqualTypeOf<StoredRecord>()
    expectTypeOf(storedToFhir).returns.toEqualTypeOf<FhirAuditEvent>()
  })
  test('error codes', () => {
    expectTypeOf<ErrorCodes<typeof import('../src/index.js')>>().toEqualTypeOf<{
      AuditEventError: 'ERR_AUDIT_INVALID_EVENT'
      NonCanonicalInputError: 'ERR_AUDIT_NON_CANONICAL'
      AuditConflictError: 'ERR_AUDIT_CONFLICT'
      AuditCorruptionError: 'ERR_AUDIT_CORRUPT'
      AuditStoreError: 'ERR_AUDIT_STORE'
      AuditLockTimeoutError: 'ERR_AUDIT_LOCK_TIMEOUT'
      AuditClosedError: 'ERR_AUDIT_CLOSED'
      AuditKeyError: 'ERR_AUDIT_KEY'
      CheckpointError: CheckpointErrorCode
      UnknownCheckpointKeyError: 'ERR_AUDIT_UNKNOWN_KEY'
      CheckpointSignatureError: 'ERR_AUDIT_CHECKPOINT_SIGNATURE'
    }>()
    expectTypeOf<AuditCorruptionError['seq']>().toEqualTypeOf<number | undefined>()
  })
})
