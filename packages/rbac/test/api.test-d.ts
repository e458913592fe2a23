/**
 * The public API's types, checked by Vitest typecheck (and by `tsc -p tsconfig.test.json`): a
 * breaking change to an exported signature fails CI here before a user's build does.
 */
import type { Clock, EventSinks, RandomSource, SafeguardEvent } from '@safeguards/core'
import { describe, expectTypeOf, test } from 'vitest'
import type { ErrorCodes } from '../../../scripts/test-support/error-codes.js'
import {
  type AccessRequest,
  assertPolicy,
  type CompileOptions,
  compilePolicy,
  createMemoryEmergencyStore,
  type Decision,
  type DecisionPoint,
  type DecisionReason,
  type EmergencyAccessError,
  type EmergencyAccessErrorCode,
  type EmergencyAccessStore,
  type EmergencyGrant,
  type EmergencyGrantRequest,
  type EmergencyGrantState,
  type EmergencyGrantStateError,
  type EmergencyStoreUnavailableError,
  type GrantRedisClient,
  isEmergencyGrant,
  isSmartScopes,
  openRedisEmergencyStore,
  type PolicyDocument,
  type PolicyError,
  type PolicyParseResult,
  type PolicyProblem,
  parsePolicy,
  parsePolicyText,
  parseSmartScopes,
  type RbacErrorCode,
  type RedisEmergencyStoreOptions,
  type SharedEmergencyStore,
  type SmartScopeError,
  type SmartScopes,
  smartScopesPermit,
} from '../src/index.js'

describe('@safeguards/rbac public types', () => {
  test('compilePolicy and the decision point', () => {
    expectTypeOf(compilePolicy).parameters.toEqualTypeOf<[document: unknown, options?: CompileOptions]>()
    expectTypeOf(compilePolicy).returns.toEqualTypeOf<DecisionPoint>()
    expectTypeOf<DecisionPoint['decide']>().parameters.toEqualTypeOf<[request: AccessRequest]>()
    expectTypeOf<DecisionPoint['decide']>().returns.toEqualTypeOf<Decision>()
    expectTypeOf<DecisionPoint['policyHash']>().toBeString()
    expectTypeOf<DecisionPoint['policy']>().toEqualTypeOf<PolicyDocument>()
    expectTypeOf<Decision['reason']>().toEqualTypeOf<DecisionReason>()
    expectTypeOf<Decision['allowed']>().toBeBoolean()
  })

  test('compile options: one clock, events, emitAllowed', () => {
    expectTypeOf<CompileOptions['clock']>().toEqualTypeOf<Clock | undefined>()
    expectTypeOf<CompileOptions['random']>().toEqualTypeOf<RandomSource | undefined>()
    expectTypeOf<CompileOptions['events']>().toEqualTypeOf<EventSinks | undefined>()
    expectTypeOf<CompileOptions['onSinkError']>().toEqualTypeOf<
      ((error: unknown, event: SafeguardEvent) => void) | undefined
    >()
    expectTypeOf<CompileOptions['emitAllowed']>().toEqualTypeOf<boolean | undefined>()
    expectTypeOf<CompileOptions['emergencyStore']>().toEqualTypeOf<EmergencyAccessStore | undefined>()
    expectTypeOf<CompileOptions>().not.toHaveProperty('now')
    // @ts-expect-error time comes from `clock`, never from a `now` function
    compilePolicy({}, { now: () => 0 })
  })

  test('emergency access', () => {
    type Emergency = DecisionPoint['emergency']
    expectTypeOf<Emergency['grant']>().parameters.toEqualTypeOf<[request: EmergencyGrantRequest]>()
    expectTypeOf<Emergency['grant']>().returns.toEqualTypeOf<EmergencyGrant>()
    expectTypeOf<Emergency['revoke']>().parameters.toEqualTypeOf<[id: string, by: string]>()
    expectTypeOf<Emergency['revoke']>().returns.toEqualTypeOf<EmergencyGrant>()
    expectTypeOf<Emergency['review']>().returns.toEqualTypeOf<EmergencyGrant>()
    expectTypeOf<Emergency['state']>().returns.toEqualTypeOf<EmergencyGrantState>()
    expectTypeOf<Emergency['pendingReviews']>().returns.toEqualTypeOf<EmergencyGrant[]>()
    expectTypeOf(createMemoryEmergencyStore).returns.toEqualTypeOf<EmergencyAccessStore>()
    expectTypeOf(isEmergencyGrant).guards.toEqualTypeOf<EmergencyGrant>()
  })

  test('parsing and SMART scopes', () => {
    expectTypeOf(parsePolicy).returns.toEqualTypeOf<PolicyParseResult>()
    expectTypeOf(parsePolicyText).returns.toEqualTypeOf<PolicyParseResult>()
    expectTypeOf(assertPolicy).returns.toEqualTypeOf<PolicyDocument>()
    expectTypeOf(parseSmartScopes).returns.toEqualTypeOf<SmartScopes>()
    expectTypeOf(isSmartScopes).guards.toEqualTypeOf<SmartScopes>()
    expectTypeOf(smartScopesPermit).returns.toBeBoolean()
  })

  test('the Redis grant store: a structural client, opened asynchronously', () => {
    expectTypeOf(openRedisEmergencyStore).parameter(0).toEqualTypeOf<RedisEmergencyStoreOptions>()
    expectTypeOf(openRedisEmergencyStore).returns.toEqualTypeOf<Promise<SharedEmergencyStore>>()
    expectTypeOf<RedisEmergencyStoreOptions['client']>().toEqualTypeOf<GrantRedisClient>()
    expectTypeOf<{
      sendCommand(args: readonly string[]): Promise<unknown>
    }>().toMatchTypeOf<GrantRedisClient>()
  })

  test('errors: code literal types', () => {
    expectTypeOf<ErrorCodes<typeof import('../src/index.js')>>().toEqualTypeOf<{
      PolicyError: 'ERR_RBAC_POLICY_INVALID'
      SmartScopeError: 'ERR_RBAC_SMART_SCOPE_INVALID'
      EmergencyAccessError: EmergencyAccessErrorCode
      EmergencyRequestInvalidError: 'ERR_RBAC_EMERGENCY_REQUEST_INVALID'
      EmergencyGrantNotFoundError: 'ERR_RBAC_EMERGENCY_NOT_FOUND'
      EmergencyGrantStateError: 'ERR_RBAC_EMERGENCY_STATE'
      EmergencyStoreUnavailableError: 'ERR_RBAC_EMERGENCY_STORE_UNAVAILABLE'
    }>()
    expectTypeOf<PolicyError['problems']>().toEqualTypeOf<readonly PolicyProblem[]>()
    expectTypeOf<SmartScopeError['index']>().toBeNumber()
    expectTypeOf<EmergencyStoreUnavailableError>().toMatchTypeOf<EmergencyAccessError>()
    expectTypeOf<EmergencyGrantStateError>().toMatchTypeOf<EmergencyAccessError>()
    expectTypeOf<EmergencyAccessErrorCode>().toMatchTypeOf<RbacErrorCode>()
  })
})
