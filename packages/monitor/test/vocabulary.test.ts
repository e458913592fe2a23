import { describe, expect, it } from 'vitest'
import {
  compileRules,
  createMonitor,
  DEFAULT_VOCABULARY,
  MonitorRulesError,
  parseRules,
} from '../src/index.js'

const encoder = new TextEncoder()
const T0 = Date.parse('2026-03-02T10:00:00.000Z')

/** A log written by another system: sign-ins are type "login" (no subtype), failures outcome 12, emergencies ETREAT. */
function foreignRecords(): { seq: number; bytes: Uint8Array }[] {
  const events = [
    ...Array.from({ length: 5 }, (_, i) => ({
      t: T0 + i * 1000,
      event: { type: 'login', action: 'E', outcome: 12, agents: [{ who: 'acct-9', requestor: true }] },
    })),
    ...Array.from({ length: 3 }, (_, i) => ({
      t: T0 + 60_000 + i * 1000,
      event: {
        type: 'rest',
        action: 'R',
        outcome: 0,
        patient: `Patient/${i}`,
        agents: [{ who: 'Practitioner/3', requestor: true, purposeOfUse: ['ETREAT'] }],
      },
    })),
  ]
  return events.map((e, seq) => {
    const recorded = new Date(e.t).toISOString()
    const record = {
      event: { ...e.event, source: { observer: 'other-ehr' } },
      prev: '0'.repeat(64),
      recorded,
      seq,
      stream: 's',
      v: 1,
    }
    return { seq, bytes: encoder.encode(JSON.stringify(record)) }
  })
}

async function detectorsFound(rules: ReturnType<typeof compileRules>): Promise<string[]> {
  const m = createMonitor({ stream: 's', rules })
  await m.feed(foreignRecords())
  m.flush()
  return m
    .result()
    .findings.map((f) => f.detector)
    .sort()
}

describe('vocabulary', () => {
  it("reads another system's codes once they are mapped, and nothing of them by default", async () => {
    expect(await detectorsFound(compileRules({}))).toEqual([])
    const mapped = compileRules({
      vocabulary: {
        signIn: { types: ['login'], subtypes: [] },
        failureOutcomes: [4, 8, 12],
        emergencyPurposes: ['BTG', 'ETREAT'],
      },
    })
    expect(await detectorsFound(mapped)).toEqual(['emergency-access-overuse', 'failed-sign-in-burst'])
  })

  it('the default vocabulary leaves every hash as it was; a mapped one changes every detector hash', () => {
    const plain = compileRules({})
    expect(plain.vocabulary).toEqual(DEFAULT_VOCABULARY)
    expect(compileRules({ vocabulary: {} }).hash).toBe(plain.hash)
    expect(compileRules({ vocabulary: { emergencyPurposes: ['BTG'] } }).hash).toBe(plain.hash)
    const mapped = compileRules({ vocabulary: { emergencyPurposes: ['BTG', 'ETREAT'] } })
    expect(mapped.hash).not.toBe(plain.hash)
    for (const [name, rule] of Object.entries(mapped.detectors))
      expect(rule.hash, name).not.toBe(plain.detectors[name as keyof typeof plain.detectors].hash)
  })

  it.each([
    ['{"vocabulary":[]}', '/vocabulary'],
    ['{"vocabulary":{"signin":{}}}', '/vocabulary/signin'],
    ['{"vocabulary":{"signIn":{"types":[]}}}', '/vocabulary/signIn/types'],
    ['{"vocabulary":{"signIn":{"types":["login",7]}}}', '/vocabulary/signIn/types'],
    ['{"vocabulary":{"signIn":{"kinds":["x"]}}}', '/vocabulary/signIn/kinds'],
    ['{"vocabulary":{"failureOutcomes":[0,4]}}', '/vocabulary/failureOutcomes'],
    ['{"vocabulary":{"failureOutcomes":[]}}', '/vocabulary/failureOutcomes'],
    ['{"vocabulary":{"emergencyPurposes":[""]}}', '/vocabulary/emergencyPurposes'],
  ])('refuses %s at %s', (text, pointer) => {
    let error: unknown
    try {
      parseRules(text)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(MonitorRulesError)
    expect((error as MonitorRulesError).pointer).toBe(pointer)
  })
})
