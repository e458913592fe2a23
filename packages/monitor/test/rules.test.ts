import { describe, expect, it } from 'vitest'
import { compileRules, DETECTORS, defaultRules, MonitorRulesError, parseRules } from '../src/index.js'

function refusal(f: () => unknown): MonitorRulesError {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(MonitorRulesError)
    expect((e as MonitorRulesError).code).toBe('ERR_MONITOR_RULES')
    return e as MonitorRulesError
  }
  throw new Error('expected a refusal')
}

describe('rules', () => {
  it('defaults are the issue table', () => {
    const r = defaultRules()
    expect(r.timeZone).toBe('UTC')
    expect(r.night).toEqual({ from: 22 * 60, to: 6 * 60 })
    const d = r.detectors
    expect([d['failed-sign-in-burst'].threshold, d['failed-sign-in-burst'].windowMs]).toEqual([5, 600_000])
    expect([d['password-spray'].threshold, d['password-spray'].windowMs]).toEqual([10, 600_000])
    expect([d['bulk-access'].threshold, d['bulk-access'].windowMs]).toEqual([50, 3_600_000])
    expect([d['denied-burst'].threshold, d['denied-burst'].windowMs]).toEqual([10, 600_000])
    expect([d['emergency-access-overuse'].threshold, d['emergency-access-overuse'].windowMs]).toEqual([
      3, 86_400_000,
    ])
    expect(d['dormant-account'].windowMs).toBe(90 * 86_400_000)
    expect(Object.values(d).every((x) => x.enabled)).toBe(true)
    expect(Object.keys(d)).toEqual(DETECTORS.map((x) => x.name))
    expect(Object.isFrozen(DETECTORS) && DETECTORS.every(Object.isFrozen)).toBe(true) // defaults cannot be altered
  })

  it.each([
    ['{"detectors":{"port-scan":{}}}', '/detectors/port-scan'],
    ['{"detectors":{"bulk-access":{"window":-60}}}', '/detectors/bulk-access/window'],
    ['{"detectors":{"bulk-access":{"window":"-10m"}}}', '/detectors/bulk-access/window'],
    ['{"detectors":{"bulk-access":{"window":0}}}', '/detectors/bulk-access/window'],
    ['{"detectors":{"denied-burst":{"threshold":0}}}', '/detectors/denied-burst/threshold'],
    ['{"detectors":{"denied-burst":{"threshold":2.5}}}', '/detectors/denied-burst/threshold'],
    ['{"detectors":{"off-hours-access":{"threshold":2}}}', '/detectors/off-hours-access/threshold'],
    ['{"detectors":{"off-hours-access":{"from":"25:00"}}}', '/detectors/off-hours-access/from'],
    ['{"detectors":{"bulk-access":{"severity":"urgent"}}}', '/detectors/bulk-access/severity'],
    ['{"detectors":{"bulk-access":{"enabled":"no"}}}', '/detectors/bulk-access/enabled'],
    ['{"timeZone":"Mars/Olympus"}', '/timeZone'],
    ['{"version":2}', '/version'],
    ['{"extra":1}', '/extra'],
    ['{"schedules":{"roles":{"a/b":[{"from":"07:00"}]}}}', '/schedules/roles/a~1b/0/to'],
    ['{"schedules":{"users":{"u":[{"from":"07:00","to":"19:00","days":[7]}]}}}', '/schedules/users/u/0/days'],
    ['{"restricted":{"Patient/1":"Practitioner/2"}}', '/restricted/Patient~11'],
    ['{"detectors":', ''],
  ])('refuses %s at %s', (text, pointer) => {
    expect(refusal(() => parseRules(text)).pointer).toBe(pointer)
  })

  it('reads YAML and durations, and a detector can be switched off', () => {
    const r = parseRules(
      'version: 1\ntimeZone: Europe/Paris\ndetectors:\n  bulk-access: { threshold: 80, window: 2h }\n  dormant-account: { enabled: false }\n',
    )
    expect(r.timeZone).toBe('Europe/Paris')
    expect(r.detectors['bulk-access']).toMatchObject({ threshold: 80, windowMs: 7_200_000 })
    expect(r.detectors['dormant-account'].enabled).toBe(false)
    expect(refusal(() => parseRules('detectors: [unclosed')).pointer).toBe('')
    expect(refusal(() => parseRules('a: 1\na: 2\n')).pointer).toBe('')
  })

  it('hashes: a detector hash changes with its own settings only, the set hash with any', () => {
    const a = defaultRules()
    const b = compileRules({ detectors: { 'bulk-access': { threshold: 51 } } })
    expect(b.detectors['bulk-access'].hash).not.toBe(a.detectors['bulk-access'].hash)
    expect(b.detectors['denied-burst'].hash).toBe(a.detectors['denied-burst'].hash)
    expect(b.hash).not.toBe(a.hash)
    const tz = compileRules({ timeZone: 'America/Chicago' })
    expect(tz.detectors['off-hours-access'].hash).not.toBe(a.detectors['off-hours-access'].hash)
    expect(tz.detectors['bulk-access'].hash).toBe(a.detectors['bulk-access'].hash)
    expect(compileRules({}).hash).toBe(a.hash)
  })
})
