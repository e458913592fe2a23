import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  isSmartScopes,
  parseSmartScopes,
  SMART_BITS,
  SmartScopeError,
  smartScopesPermit,
} from '../src/index.js'

const bits = (s: string) => parseSmartScopes(s).scopes.map((x) => x.permissions)

describe('parseSmartScopes', () => {
  it('accepts any in-order subset (".rd" is in order: r before d)', () => {
    expect(bits('user/Observation.rd')).toEqual([SMART_BITS.r | SMART_BITS.d])
  })

  it('parses v2 scopes and maps v1 read/write/* to rs/cud/cruds', () => {
    expect(bits('patient/Observation.rs')).toEqual([SMART_BITS.r | SMART_BITS.s])
    expect(bits('user/*.read')).toEqual(bits('user/*.rs'))
    expect(bits('user/*.write')).toEqual(bits('user/*.cud'))
    expect(bits('system/*.*')).toEqual(bits('system/*.cruds'))
    const p = parseSmartScopes('launch/patient openid fhirUser offline_access patient/Patient.r __x/y.r', {
      patient: 'p-1',
    })
    expect(p.scopes.map((s) => [s.context, s.resourceType])).toEqual([['patient', 'Patient']])
    expect(p.ignored).toEqual(['launch/patient', 'openid', 'fhirUser', 'offline_access', '__x/y.r'])
    expect(p.patient).toBe('p-1')
    expect(isSmartScopes(p)).toBe(true)
    expect(isSmartScopes({ ...p })).toBe(false)
  })

  it.each([
    'patient/Observation.dus',
    'patient/Observation.sr',
    'patient/Observation.rr',
    'patient/Observation.',
    'patient/Observation.x',
    'patient/Observation.READ',
    'patient/observation.r',
    'patient/.r',
    'user/Obs-ervation.r',
    'user/Observation.read?category=x',
    'user/Observation.rs?=x',
    'user/Observation.rs?category=%E0%A4%A',
  ])('rejects %s', (scope) => {
    expect(() => parseSmartScopes(`openid ${scope}`)).toThrow(SmartScopeError)
    try {
      parseSmartScopes(`openid ${scope}`)
    } catch (e) {
      expect((e as SmartScopeError).code).toBe('ERR_RBAC_SMART_SCOPE_INVALID')
      expect((e as SmartScopeError).index).toBe(1)
    }
  })

  it('rejects oversized input and bad arguments', () => {
    expect(() => parseSmartScopes('user/*.r '.repeat(300))).toThrow(SmartScopeError)
    expect(() => parseSmartScopes('x'.repeat(20_000))).toThrow(SmartScopeError)
    expect(() => parseSmartScopes(1 as unknown as string)).toThrow(TypeError)
    expect(() => parseSmartScopes('user/*.r', { patient: '' })).toThrow(TypeError)
  })

  it('every in-order subset of cruds parses, and no out-of-order permutation does (property)', () => {
    fc.assert(
      fc.property(fc.subarray(['c', 'r', 'u', 'd', 's'], { minLength: 1 }), fc.nat(), (letters, seed) => {
        const inOrder = letters.join('')
        expect(() => parseSmartScopes(`user/Patient.${inOrder}`)).not.toThrow()
        if (letters.length > 1) {
          const rotated = [
            ...letters.slice(1 + (seed % (letters.length - 1))),
            ...letters.slice(0, 1 + (seed % (letters.length - 1))),
          ].join('')
          if (rotated !== inOrder)
            expect(() => parseSmartScopes(`user/Patient.${rotated}`)).toThrow(SmartScopeError)
        }
      }),
    )
  })

  it('smartScopesPermit: patient binding, wildcard type, params on arrays, no letter → no', () => {
    const s = parseSmartScopes('patient/*.r user/Observation.s?code=a|1', { patient: 'p-1' })
    expect(smartScopesPermit(s, SMART_BITS.r, { type: 'Condition', patient: 'p-1' })).toBe(true)
    expect(smartScopesPermit(s, SMART_BITS.r, { type: 'Condition', patient: 'p-2' })).toBe(false)
    expect(
      smartScopesPermit(s, SMART_BITS.s, { type: 'Observation', attributes: { code: ['b|2', 'a|1'] } }),
    ).toBe(true)
    expect(smartScopesPermit(s, SMART_BITS.s, { type: 'Observation', attributes: { code: 'b|2' } })).toBe(
      false,
    )
    expect(
      smartScopesPermit(s, SMART_BITS.s, {
        type: 'Observation',
        attributes: JSON.parse('{"__proto__":{"code":"a|1"}}'),
      }),
    ).toBe(false)
    expect(smartScopesPermit(s, 0, { type: 'Condition', patient: 'p-1' })).toBe(false)
  })
})
