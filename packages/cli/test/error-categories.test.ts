/**
 * The category of every error code of the packages the CLI runs, pinned. A category decides the
 * CLI's exit code (`categoryExitCodes`: integrity 1, usage 2, key unavailable 3, I/O 74, try again
 * 75), so changing one changes what scripts and schedulers see: it must be a decision, made here.
 * Read from each package's exports (every `CodedError` subclass with its own code); a class added,
 * removed or moved to another category fails this test.
 */
import * as auditLog from '@safeguards/audit-log'
import * as auditLogPostgres from '@safeguards/audit-log-postgres'
import * as backup from '@safeguards/backup'
import * as controls from '@safeguards/controls'
import * as core from '@safeguards/core'
import { CodedError, type ErrorCategory } from '@safeguards/core'
import * as envelope from '@safeguards/envelope'
import * as envelopePostgres from '@safeguards/envelope-postgres'
import * as monitor from '@safeguards/monitor'
import * as password from '@safeguards/password'
import * as pkcs11 from '@safeguards/pkcs11'
import * as rbac from '@safeguards/rbac'
import * as session from '@safeguards/session'
import * as transport from '@safeguards/transport'
import { describe, expect, it } from 'vitest'
import { categoryExitCodes } from '../src/index.js'

const modules: Record<string, Record<string, unknown>> = {
  '@safeguards/core': core,
  '@safeguards/audit-log': auditLog,
  '@safeguards/audit-log-postgres': auditLogPostgres,
  '@safeguards/backup': backup,
  '@safeguards/controls': controls,
  '@safeguards/envelope': envelope,
  '@safeguards/envelope-postgres': envelopePostgres,
  '@safeguards/monitor': monitor,
  '@safeguards/password': password,
  '@safeguards/pkcs11': pkcs11,
  '@safeguards/rbac': rbac,
  '@safeguards/session': session,
  '@safeguards/transport': transport,
}

const expected: Record<string, Record<string, ErrorCategory>> = {
  '@safeguards/core': {
    ERR_ENCODING: 'invalid-input',
    ERR_INVALID_ARGUMENT: 'invalid-argument',
  },
  '@safeguards/audit-log': {
    ERR_AUDIT_CHECKPOINT: 'integrity',
    ERR_AUDIT_CHECKPOINT_SIGNATURE: 'integrity',
    ERR_AUDIT_CLOSED: 'conflict',
    ERR_AUDIT_CONFLICT: 'conflict',
    ERR_AUDIT_CORRUPT: 'integrity',
    ERR_AUDIT_INVALID_EVENT: 'invalid-argument',
    ERR_AUDIT_KEY: 'invalid-argument',
    ERR_AUDIT_LOCK_TIMEOUT: 'unavailable',
    ERR_AUDIT_NON_CANONICAL: 'invalid-input',
    ERR_AUDIT_STORE: 'io',
    ERR_AUDIT_UNKNOWN_KEY: 'integrity',
  },
  '@safeguards/audit-log-postgres': {
    ERR_AUDIT_PG_MIGRATION: 'conflict',
    ERR_AUDIT_STORE: 'io',
  },
  '@safeguards/backup': {
    ERR_BACKUP_ALERT: 'unavailable',
    ERR_BACKUP_ATTESTATION: 'integrity',
    ERR_BACKUP_DESTINATION: 'io',
    ERR_BACKUP_KEY: 'invalid-argument',
    ERR_BACKUP_SOURCE: 'io',
    ERR_BACKUP_STATE: 'invalid-input',
  },
  '@safeguards/controls': {
    ERR_CONTROLS_COVERAGE: 'invalid-input',
    ERR_CONTROLS_DATA: 'invalid-input',
    ERR_CONTROL_TAG: 'invalid-input',
    ERR_EVIDENCE_BASELINE: 'invalid-input',
  },
  '@safeguards/envelope': {
    ERR_BLIND_INDEX_INPUT: 'invalid-input',
    ERR_ENVELOPE_CONTEXT: 'invalid-argument',
    ERR_ENVELOPE_DECRYPTION_FAILED: 'integrity',
    ERR_ENVELOPE_FORMAT: 'invalid-input',
    ERR_ENVELOPE_KEY_UNAVAILABLE: 'key-unavailable',
    ERR_ENVELOPE_LIMIT: 'limit',
    ERR_ENVELOPE_UNSUPPORTED: 'invalid-input',
    ERR_ENVELOPE_USAGE_LIMIT: 'limit',
    ERR_KEK_PROVIDER: 'unavailable',
    ERR_KEYRING_SEALED: 'key-unavailable',
    ERR_KEYRING_STATE: 'conflict',
    ERR_RECIPIENT_KEY: 'invalid-input',
    ERR_SUBJECT_KEY_STORE: 'io',
    ERR_SUBJECT_SHREDDED: 'key-unavailable',
  },
  '@safeguards/envelope-postgres': {
    ERR_ENVELOPE_PG_MIGRATION: 'conflict',
    ERR_SUBJECT_KEY_STORE: 'io',
  },
  '@safeguards/monitor': {
    ERR_MONITOR_FINDING_STORE: 'integrity',
    ERR_MONITOR_FINDING_UNKNOWN: 'invalid-argument',
    ERR_MONITOR_ORDER: 'invalid-argument',
    ERR_MONITOR_RULES: 'invalid-input',
    ERR_MONITOR_SELF_REVIEW: 'conflict',
  },
  '@safeguards/password': {
    ERR_PASSWORD_BUSY: 'unavailable',
    ERR_PASSWORD_CONFIG: 'invalid-argument',
    ERR_PASSWORD_HASH_FORMAT: 'invalid-input',
    ERR_PASSWORD_INVALID_TEXT: 'invalid-input',
    ERR_PASSWORD_PEPPER_UNKNOWN: 'key-unavailable',
    ERR_PASSWORD_TOO_LARGE: 'invalid-input',
  },
  '@safeguards/pkcs11': {
    ERR_PKCS11_CLOSED: 'conflict',
    ERR_PKCS11_KEY_POLICY: 'key-unavailable',
    ERR_PKCS11_LOGIN: 'key-unavailable',
    ERR_PKCS11_MECHANISM: 'invalid-argument',
    ERR_PKCS11_MODULE: 'key-unavailable',
    ERR_PKCS11_TOKEN_NOT_FOUND: 'key-unavailable',
  },
  '@safeguards/rbac': {
    ERR_RBAC_EMERGENCY_NOT_FOUND: 'conflict',
    ERR_RBAC_EMERGENCY_REQUEST_INVALID: 'invalid-argument',
    ERR_RBAC_EMERGENCY_STATE: 'conflict',
    ERR_RBAC_EMERGENCY_STORE_UNAVAILABLE: 'unavailable',
    ERR_RBAC_POLICY_INVALID: 'invalid-input',
    ERR_RBAC_SMART_SCOPE_INVALID: 'invalid-input',
  },
  '@safeguards/session': {
    ERR_SESSION_CONFIG: 'invalid-argument',
    ERR_SESSION_DATA: 'invalid-argument',
    ERR_SESSION_LIMIT: 'limit',
    ERR_SESSION_REAUTH_REQUIRED: 'conflict',
    ERR_SESSION_STORE_UNAVAILABLE: 'unavailable',
  },
  '@safeguards/transport': {
    ERR_TRANSPORT_CONFIG: 'invalid-argument',
    ERR_TRANSPORT_TARGET: 'invalid-argument',
    ERR_TRANSPORT_UNREACHABLE: 'unavailable',
  },
}

/** Each code a module's error classes carry, with the category (or categories) its classes give it. */
function categoriesOf(module: Record<string, unknown>): Record<string, string> {
  const seen = new Map<string, Set<string>>()
  for (const value of Object.values(module)) {
    if (typeof value !== 'function' || !(value.prototype instanceof CodedError)) continue
    const { code, category } = value as unknown as typeof CodedError
    if (code === CodedError.code) continue // a package's base class: no code of its own
    seen.set(code, (seen.get(code) ?? new Set()).add(category))
  }
  return Object.fromEntries([...seen].map(([code, set]) => [code, [...set].sort().join(' | ')]))
}

describe('error categories (the CLI exit codes) of the packages the CLI runs', () => {
  it.each(Object.keys(expected))('%s', (name) => {
    expect(categoriesOf(modules[name] as Record<string, unknown>)).toEqual(expected[name])
  })

  it('every pinned category has an exit code', () => {
    for (const table of Object.values(expected))
      for (const category of Object.values(table)) expect(categoryExitCodes[category]).toBeTypeOf('number')
  })
})
