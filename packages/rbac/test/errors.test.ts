import { CodedError, isSafeguardsError } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import * as rbac from '../src/index.js'

describe('errors: codes and categories (the contract)', () => {
  it.each([
    [
      new rbac.PolicyError([{ path: '/rules/0', code: 'unknown_key', message: 'unknown key' }]),
      'PolicyError',
      'ERR_RBAC_POLICY_INVALID',
      'invalid-input',
      'invalid policy: 1 problem(s); first at /rules/0: unknown key',
    ],
    [
      new rbac.PolicyError([{ path: '', code: 'x', message: 'not an object' }]),
      'PolicyError',
      'ERR_RBAC_POLICY_INVALID',
      'invalid-input',
      'invalid policy: 1 problem(s); first at (root): not an object',
    ],
    [
      new rbac.EmergencyRequestInvalidError('bad'),
      'EmergencyRequestInvalidError',
      'ERR_RBAC_EMERGENCY_REQUEST_INVALID',
      'invalid-argument',
      'bad',
    ],
    [
      new rbac.EmergencyGrantNotFoundError('no such grant'),
      'EmergencyGrantNotFoundError',
      'ERR_RBAC_EMERGENCY_NOT_FOUND',
      'conflict',
      'no such grant',
    ],
    [
      new rbac.EmergencyGrantStateError('grant already reviewed'),
      'EmergencyGrantStateError',
      'ERR_RBAC_EMERGENCY_STATE',
      'conflict',
      'grant already reviewed',
    ],
    [
      new rbac.EmergencyStoreUnavailableError('emergency store: commit failed'),
      'EmergencyStoreUnavailableError',
      'ERR_RBAC_EMERGENCY_STORE_UNAVAILABLE',
      'unavailable',
      'emergency store: commit failed',
    ],
    [
      new rbac.SmartScopeError('bad resource type', 2),
      'SmartScopeError',
      'ERR_RBAC_SMART_SCOPE_INVALID',
      'invalid-input',
      'bad resource type (scope #2)',
    ],
  ])('%o', (e, name, code, category, message) => {
    expect(e).toBeInstanceOf(CodedError)
    expect(isSafeguardsError(e, code)).toBe(true)
    expect([e.name, e.code, e.category, e.message]).toEqual([name, code, category, message])
    if (code.startsWith('ERR_RBAC_EMERGENCY')) expect(e).toBeInstanceOf(rbac.EmergencyAccessError)
  })

  it('keeps the extra fields', () => {
    const problems = [{ path: '/a', code: 'c', message: 'm' }]
    const p = new rbac.PolicyError(problems)
    expect(p.problems).toEqual(problems)
    expect(Object.isFrozen(p.problems)).toBe(true)
    expect(new rbac.SmartScopeError('x', 3).index).toBe(3)
  })
})
