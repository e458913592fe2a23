import { describe, expect, it } from 'vitest'
import {
  BaselineError,
  compileBaseline,
  defaultBaseline,
  parseBaseline,
  THRESHOLD_IDS,
  withThreshold,
} from '../src/index.js'

const pointerOf = (f: () => unknown): string => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(BaselineError)
    expect((e as BaselineError).code).toBe('ERR_EVIDENCE_BASELINE')
    return (e as BaselineError).pointer
  }
  throw new Error('expected a BaselineError')
}

describe('baseline', () => {
  it('has every threshold at its source value, each with its source', () => {
    const b = defaultBaseline()
    expect(Object.keys(b.thresholds)).toEqual([...THRESHOLD_IDS])
    expect(b.thresholds['session.idleTimeout']).toMatchObject({ kind: 'max-ms', value: 900_000 })
    expect(b.thresholds['session.idleTimeout'].source).toContain('NIST SP 800-63B rev 4')
    expect(b.thresholds['password.minLength'].value).toBe(15)
    expect(b.thresholds['password.minLengthWithMfa'].value).toBe(8)
    expect(b.thresholds['transit.minTls']).toMatchObject({ value: 'TLSv1.2' })
    expect(b.thresholds['transit.minTls'].source).toContain('NIST SP 800-52r2')
    expect(b.thresholds['password.rehash'].source).toContain('OWASP')
    expect(b.thresholds['backup.rpo'].source).toContain('HIPAA 164.308(a)(7)(ii)(A)')
    for (const t of Object.values(b.thresholds)) expect(t.source).not.toBe('')
    expect(b.phiRoles).toBe('*')
    expect(b.adjustments).toEqual([])
    expect(b.hash).toMatch(/^[0-9a-f]{64}$/)
    expect(defaultBaseline().hash).toBe(b.hash)
  })

  it('reads YAML and JSON, and records each change with its direction and reason', () => {
    const yaml = parseBaseline(`
version: 1
name: clinic-2026
phiRoles: [nurse, physician]
thresholds:
  session.idleTimeout: { value: 10m, reason: shared workstations on the wards }
  backup.rpo: { value: 36h, reason: nightly job at 02:00 }
  password.rehash: { value: false, reason: hashes are upgraded by the IdP }
`)
    expect(yaml.name).toBe('clinic-2026')
    expect(yaml.phiRoles).toEqual(['nurse', 'physician'])
    expect(yaml.thresholds['session.idleTimeout'].value).toBe(600_000)
    expect(yaml.thresholds['backup.rpo'].source).toContain('changed by the baseline')
    expect(yaml.adjustments).toEqual([
      {
        id: 'session.idleTimeout',
        from: 900_000,
        to: 600_000,
        direction: 'tightened',
        reason: 'shared workstations on the wards',
      },
      {
        id: 'password.rehash',
        from: true,
        to: false,
        direction: 'loosened',
        reason: 'hashes are upgraded by the IdP',
      },
      {
        id: 'backup.rpo',
        from: 86_400_000,
        to: 129_600_000,
        direction: 'loosened',
        reason: 'nightly job at 02:00',
      },
    ])
    const json = parseBaseline(
      '{"thresholds":{"session.idleTimeout":{"value":600000,"reason":"shared workstations on the wards"}}}',
    )
    expect(json.thresholds['session.idleTimeout'].value).toBe(600_000)
    expect(json.hash).not.toBe(defaultBaseline().hash)
    expect(parseBaseline('').hash).toBe(defaultBaseline().hash)
  })

  it('refuses bad members with the JSON pointer of each', () => {
    expect(pointerOf(() => parseBaseline('{"thresholds":{"backup.rpo":{"value":"36h"}}}'))).toBe(
      '/thresholds/backup.rpo/reason',
    )
    expect(
      pointerOf(() => parseBaseline('{"thresholds":{"backup.rpo":{"value":"36 hours","reason":"x"}}}')),
    ).toBe('/thresholds/backup.rpo/value')
    expect(
      pointerOf(() => compileBaseline({ thresholds: { 'session.idle': { value: 1, reason: 'x' } } })),
    ).toBe('/thresholds/session.idle')
    expect(
      pointerOf(() => compileBaseline({ thresholds: { 'mfa.enrolledShare': { value: 2, reason: 'x' } } })),
    ).toBe('/thresholds/mfa.enrolledShare/value')
    expect(
      pointerOf(() =>
        compileBaseline({ thresholds: { 'transit.minTls': { value: 'TLSv1.0', reason: 'x' } } }),
      ),
    ).toBe('/thresholds/transit.minTls/value')
    expect(pointerOf(() => compileBaseline({ version: 2 }))).toBe('/version')
    expect(pointerOf(() => compileBaseline({ phiRoles: [] }))).toBe('/phiRoles')
    expect(pointerOf(() => compileBaseline({ phiRoles: ['nurse', 3] }))).toBe('/phiRoles/1')
    expect(pointerOf(() => compileBaseline({ extra: 1 }))).toBe('/extra')
    expect(pointerOf(() => compileBaseline([]))).toBe('')
    expect(pointerOf(() => parseBaseline('a: [b'))).toBe('')
    expect(pointerOf(() => parseBaseline('{"a":'))).toBe('')
    expect(() => parseBaseline('{"a":1}')).toThrow(/unknown member "a" at \/a/)
  })

  it('withThreshold changes one threshold and records why', () => {
    const b = withThreshold(defaultBaseline(), 'keys.rotationPeriod', 365 * 86_400_000, '--max-key-age')
    expect(b.thresholds['keys.rotationPeriod'].value).toBe(365 * 86_400_000)
    expect(b.adjustments).toEqual([
      expect.objectContaining({ id: 'keys.rotationPeriod', direction: 'tightened', reason: '--max-key-age' }),
    ])
    expect(() => withThreshold(b, 'keys.rotationPeriod', -1, 'x')).toThrow(BaselineError)
  })
})
