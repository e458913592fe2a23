/**
 * The public API's types, checked by Vitest typecheck (and by `tsc -p tsconfig.test.json`): a
 * breaking change to an exported signature fails CI here before a user's build does.
 */
import type { Clock, ErrorCategory, EventOptions, RandomSource } from '@safeguards/core'
import { describe, expectTypeOf, test } from 'vitest'
import type { ErrorCodes } from '../../../scripts/test-support/error-codes.js'
import * as backup from '../src/index.js'

describe('@safeguards/backup public types', () => {
  test('createBag and backup.verifyBag', () => {
    expectTypeOf(backup.createBag).parameters.toEqualTypeOf<[string, string, backup.CreateBagOptions?]>()
    expectTypeOf(backup.createBag).returns.resolves.toEqualTypeOf<backup.CreateBagResult>()
    expectTypeOf(backup.verifyBag).parameters.toEqualTypeOf<[string, backup.VerifyOptions?]>()
    expectTypeOf(backup.verifyBag).returns.resolves.toEqualTypeOf<backup.VerifyResult>()
    expectTypeOf<backup.VerifyResult>().toEqualTypeOf<{
      report: backup.VerifyReport
      state: backup.VerifyState
    }>()
    expectTypeOf<backup.VerifyReport['status']>().toEqualTypeOf<'ok' | 'partial' | 'failed'>()
    expectTypeOf<backup.VerifyReport['exitCode']>().toEqualTypeOf<backup.BackupExitCodeValue>()
  })

  test('options: events, clock, keys, cipher, restore tests', () => {
    expectTypeOf<backup.VerifyOptions>().toMatchTypeOf<EventOptions>()
    expectTypeOf<backup.CreateBagOptions>().toMatchTypeOf<EventOptions>()
    expectTypeOf<backup.VerifyOptions['clock']>().toEqualTypeOf<Clock | undefined>()
    expectTypeOf<backup.CreateBagOptions['clock']>().toEqualTypeOf<Clock | undefined>()
    expectTypeOf<backup.CreateBagOptions['random']>().toEqualTypeOf<RandomSource | undefined>()
    expectTypeOf<backup.VerifyOptions['publicKeys']>().toEqualTypeOf<
      readonly backup.VerificationKey[] | undefined
    >()
    expectTypeOf<backup.CreateBagOptions['signingKey']>().toEqualTypeOf<backup.SigningKey | undefined>()
    expectTypeOf<backup.VerifyOptions['cipher']>().toEqualTypeOf<backup.PayloadCipher | undefined>()
    expectTypeOf<backup.VerifyOptions['restoreTests']>().toEqualTypeOf<
      readonly backup.RestoreTest[] | undefined
    >()
    expectTypeOf<backup.VerifyOptions['maxAgeMs']>().toEqualTypeOf<number | undefined>()
  })

  test('keys and attestations', () => {
    expectTypeOf(backup.importSigningKey).returns.resolves.toEqualTypeOf<backup.SigningKey>()
    expectTypeOf(backup.importVerificationKeys).returns.resolves.toEqualTypeOf<backup.VerificationKey[]>()
    expectTypeOf(backup.generateSigningKeyPair).parameter(0).toEqualTypeOf<'Ed25519' | 'EdDSA' | 'ES256'>()
    expectTypeOf(backup.signAttestation).parameters.toEqualTypeOf<
      [backup.AttestationPayload, backup.SigningKey]
    >()
    expectTypeOf(backup.signAttestation).returns.resolves.toBeString()
    expectTypeOf(backup.verifyAttestation).returns.resolves.toEqualTypeOf<backup.AttestationCheck>()
  })

  test('state, findings, alerts, restore tests', () => {
    expectTypeOf(backup.emptyVerifyState).returns.toEqualTypeOf<backup.VerifyState>()
    expectTypeOf(backup.loadVerifyState).parameters.toEqualTypeOf<[string]>()
    expectTypeOf(backup.loadVerifyState).returns.resolves.toEqualTypeOf<backup.VerifyState>()
    expectTypeOf(backup.saveVerifyState).parameters.toEqualTypeOf<[string, backup.VerifyState]>()
    expectTypeOf(backup.saveVerifyState).returns.resolves.toBeVoid()
    expectTypeOf(backup.exitCodeForFindings).parameters.toEqualTypeOf<[readonly backup.Finding[]]>()
    expectTypeOf(backup.exitCodeForFindings).returns.toEqualTypeOf<backup.BackupExitCodeValue>()
    expectTypeOf(backup.alertFromReport).parameters.toEqualTypeOf<[backup.VerifyReport]>()
    expectTypeOf(backup.alertFromReport).returns.toEqualTypeOf<backup.Alert>()
    expectTypeOf(backup.sendAlerts).parameters.toEqualTypeOf<[backup.Alert, readonly backup.AlertSink[]]>()
    expectTypeOf(backup.sendAlerts).returns.resolves.toEqualTypeOf<backup.AlertOutcome>()
    expectTypeOf(backup.verifyWebhookSignature).returns.toBeBoolean()
    expectTypeOf(backup.commandRestoreTest).returns.toEqualTypeOf<backup.RestoreTest>()
    expectTypeOf(backup.payloadContext).parameters.toEqualTypeOf<[string, string]>()
  })

  test('errors: stable code literals and categories', () => {
    expectTypeOf<ErrorCodes<typeof backup>>().toEqualTypeOf<{
      BackupError: backup.BackupErrorCode
      BackupKeyError: 'ERR_BACKUP_KEY'
      BackupSourceError: 'ERR_BACKUP_SOURCE'
      BackupDestinationError: 'ERR_BACKUP_DESTINATION'
      BackupAttestationError: 'ERR_BACKUP_ATTESTATION'
      BackupStateError: 'ERR_BACKUP_STATE'
      BackupAlertError: 'ERR_BACKUP_ALERT'
    }>()
    expectTypeOf<backup.BackupError['category']>().toEqualTypeOf<ErrorCategory>()
    expectTypeOf(backup.BackupKeyError).constructorParameters.toEqualTypeOf<[string, { cause?: unknown }?]>()
    expectTypeOf(new backup.BackupSourceError('x')).toMatchTypeOf<backup.BackupError>()
  })
})
