/**
 * `@safeguards/rbac`: a policy decision point for PHI access. Strict JSON/YAML policies, role
 * inheritance compiled once, declarative conditions with named relationship resolvers, tenants,
 * sensitivity-label overlays, emergency access (break-glass) and SMART on FHIR scope narrowing.
 *
 * @packageDocumentation
 */
export type { CompileOptions, DecisionPoint, RelationshipResolver } from './compile.js'
export { compilePolicy } from './compile.js'
export type {
  AccessRequest,
  ConditionError,
  ConditionErrorCode,
  DecidingRule,
  Decision,
  DecisionReason,
  EmergencyAccessUse,
  EmergencyGrantStatus,
  LabelOutcome,
  Obligation,
  Resource,
  Subject,
} from './decision.js'
export type {
  EmergencyAccess,
  EmergencyAccessStore,
  EmergencyGrant,
  EmergencyGrantNotice,
  EmergencyGrantRequest,
  EmergencyGrantState,
  EmergencyReview,
} from './emergency-access.js'
export { createMemoryEmergencyStore, isEmergencyGrant } from './emergency-access.js'
export type { SharedEmergencyStore } from './emergency-shared.js'
export { isSharedEmergencyStore } from './emergency-shared.js'
export type {
  GrantSqlClient,
  GrantSqlListener,
  PostgresEmergencyStoreOptions,
} from './emergency-store-postgres.js'
export { openPostgresEmergencyStore } from './emergency-store-postgres.js'
export type { GrantRedisClient, RedisEmergencyStoreOptions } from './emergency-store-redis.js'
export { openRedisEmergencyStore } from './emergency-store-redis.js'
export type { EmergencyAccessErrorCode, PolicyProblem, RbacErrorCode } from './errors.js'
export {
  EmergencyAccessError,
  EmergencyGrantNotFoundError,
  EmergencyGrantStateError,
  EmergencyRequestInvalidError,
  EmergencyStoreUnavailableError,
  PolicyError,
  SmartScopeError,
} from './errors.js'
export type { PolicyFormat, PolicyParseResult } from './parse.js'
export { assertPolicy, parsePolicy, parsePolicyText } from './parse.js'
export type {
  Condition,
  Effect,
  EmergencyAccessPolicy,
  LabelDefinition,
  Literal,
  Operand,
  PolicyDocument,
  RoleDefinition,
  RuleDefinition,
  SmartPermission,
  TimeWindow,
  Weekday,
} from './policy.js'
export type { SmartScope, SmartScopeOptions, SmartScopes } from './smart-scopes.js'
export { isSmartScopes, parseSmartScopes, SMART_BITS, smartScopesPermit } from './smart-scopes.js'
export type { AccessPath, GrantPath, WhoCanQuery, WhoCanResult } from './who-can.js'
export { whoCan } from './who-can.js'
