import { canonicalize } from '@safeguards/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  AuditEventError,
  createPseudonymizer,
  encodeRecord,
  formatRecorded,
  NonCanonicalInputError,
  validateEvent,
} from '../src/index.js'
import { event } from './helpers.js'

describe('validateEvent', () => {
  it('accepts a full event and returns a normalised copy', () => {
    const e = event(3, {
      details: { count: 3, ok: true, reason: 'policy-7' },
      occurred: '2026-01-01T00:00:00Z',
    })
    const v = validateEvent(e)
    expect(v).toEqual(e)
    expect(v).not.toBe(e)
    expect(validateEvent(JSON.stringify(e))).toEqual(e)
  })

  it.each([
    ['type', '/type'],
    ['action', '/action'],
    ['outcome', '/outcome'],
    ['agents', '/agents'],
    ['source', '/source'],
  ])('rejects a missing %s', (field, path) => {
    const e = { ...event(1) } as Record<string, unknown>
    delete e[field]
    expect(() => validateEvent(e)).toThrow(AuditEventError)
    try {
      validateEvent(e)
    } catch (err) {
      expect((err as AuditEventError).path).toBe(path)
      expect((err as AuditEventError).code).toBe('ERR_AUDIT_INVALID_EVENT')
    }
  })

  it('rejects an agent without requestor, no agents, no observer', () => {
    expect(() => validateEvent({ ...event(1), agents: [{ who: 'x' }] })).toThrow(/requestor/)
    expect(() => validateEvent({ ...event(1), agents: [] })).toThrow(AuditEventError)
    expect(() => validateEvent({ ...event(1), source: {} })).toThrow(/observer/)
  })

  it('refuses free text and unknown fields (PHI stays out)', () => {
    expect(() => validateEvent({ ...event(1), note: 'patient said x' })).toThrow(/unknown field/)
    expect(() => validateEvent({ ...event(1), patient: 'John Smith' })).toThrow(/identifier/)
    expect(() => validateEvent({ ...event(1), outcomeCode: 'a'.repeat(257) })).toThrow(AuditEventError)
    expect(() => validateEvent({ ...event(1), patient: 'Jöhn' })).toThrow(AuditEventError)
    expect(() => validateEvent({ ...event(1), type: 'safeguards.recovered' })).toThrow(/reserved/)
    expect(() => validateEvent({ ...event(1), details: { 'free text': 'x' } })).toThrow(AuditEventError)
  })

  it.each([
    ['-0', { outcome: -0 }],
    ['NaN', { details: { n: Number.NaN } }],
    ['Infinity', { details: { n: Number.POSITIVE_INFINITY } }],
    ['float', { details: { n: 1.5 } }],
    ['float outcome', { outcome: 0.5 }],
    ['beyond 2^53', { details: { n: 2 ** 53 } }],
    ['lone surrogate', { patient: '\ud800x' }],
    ['lone surrogate key', { details: { '\udc00': 1 } }],
  ])('rejects non-canonical input: %s', (_name, patch) => {
    expect(() => validateEvent({ ...event(1), ...patch })).toThrow(NonCanonicalInputError)
  })

  it('rejects duplicate keys and big integers in JSON text', () => {
    const text = JSON.stringify(event(1))
    const dup = text.replace('"action":"R"', '"action":"R","action":"D"')
    expect(() => validateEvent(dup)).toThrow(NonCanonicalInputError)
    expect(() => validateEvent(text.replace('}', ',"x":9007199254740993}'))).toThrow(NonCanonicalInputError)
    expect(() => validateEvent('{"type":')).toThrow(NonCanonicalInputError)
    expect(() => validateEvent(text.replace('"outcome":0', '"outcome":-0'))).toThrow(NonCanonicalInputError)
    expect(() => validateEvent(text.replace('"outcome":0', '"outcome":0.0'))).not.toThrow()
  })

  it('never accepts what it cannot store canonically (property)', () => {
    fc.assert(
      fc.property(fc.anything(), (v) => {
        try {
          const e = validateEvent(v)
          expect(JSON.parse(canonicalize(e))).toEqual(e)
        } catch (err) {
          expect(err instanceof AuditEventError || err instanceof NonCanonicalInputError).toBe(true)
        }
      }),
      { numRuns: 500 },
    )
    fc.assert(
      fc.property(fc.string(), (s) => {
        try {
          validateEvent(s)
        } catch (err) {
          expect(err instanceof AuditEventError || err instanceof NonCanonicalInputError).toBe(true)
        }
      }),
    )
  })

  it("the log's fast record writer matches core canonicalize byte for byte (property)", async () => {
    const { eventText, recordBytes } = await import('../src/internal/encode.js')
    const tok = fc.stringMatching(/^[A-Za-z0-9._:/|~#-]{1,12}$/)
    const arb = fc.record(
      {
        type: tok,
        subtype: fc.array(tok, { minLength: 1, maxLength: 3 }),
        action: fc.constantFrom('C', 'R', 'U', 'D', 'E'),
        outcome: fc.constantFrom(0, 4, 8, 12),
        outcomeCode: tok,
        occurred: fc.constant('2026-01-01T00:00:00.000Z'),
        agents: fc.array(
          fc.record(
            {
              who: tok,
              requestor: fc.boolean(),
              type: tok,
              role: fc.array(tok, { minLength: 1, maxLength: 2 }),
              altId: tok,
              network: fc.record(
                { address: tok, type: fc.constantFrom('1', '2', '3', '4', '5') },
                { requiredKeys: ['address'] },
              ),
              purposeOfUse: fc.array(tok, { minLength: 1, maxLength: 2 }),
            },
            { requiredKeys: ['who', 'requestor'] },
          ),
          { minLength: 1, maxLength: 3 },
        ),
        source: fc.record(
          { observer: tok, site: tok, type: fc.array(tok, { minLength: 1, maxLength: 2 }) },
          { requiredKeys: ['observer'] },
        ),
        patient: tok,
        entities: fc.array(
          fc.record(
            {
              what: tok,
              type: tok,
              role: tok,
              lifecycle: tok,
              securityLabel: fc.array(tok, { minLength: 1, maxLength: 2 }),
            },
            { requiredKeys: ['what'] },
          ),
          { maxLength: 3 },
        ),
        requestId: tok,
        details: fc.dictionary(
          fc.oneof(tok, fc.constantFrom('0', '9', '10', '4294967295', '007')),
          fc.oneof(tok, fc.boolean(), fc.maxSafeInteger(), fc.constant(0)),
          {
            maxKeys: 5,
          },
        ),
      },
      { requiredKeys: ['type', 'action', 'outcome', 'agents', 'source'] },
    )
    fc.assert(
      fc.property(arb, fc.nat(), (input, seq) => {
        const e = validateEvent(input)
        expect(eventText(e)).toBe(canonicalize(e))
        const rec = {
          v: 1 as const,
          stream: 'st.1',
          seq,
          prev: 'ab'.repeat(32),
          recorded: '2026-01-01T00:00:00.000Z',
          event: e,
        }
        expect(recordBytes(eventText(e), rec.prev, rec.recorded, seq, rec.stream)).toEqual(encodeRecord(rec))
      }),
      { numRuns: 300 },
    )
    expect(validateEvent({ ...event(1), details: JSON.parse('{"__proto__":"x"}') }).details).toEqual(
      JSON.parse('{"__proto__":"x"}'),
    )
  })

  it('the envelope scanner agrees with JSON.parse and never throws on mutated bytes (property)', async () => {
    const { readRecordHeader } = await import('../src/internal/record-header.js')
    const bytes = encodeRecord({
      v: 1,
      stream: 'st-1',
      seq: 123,
      prev: 'cd'.repeat(32),
      recorded: formatRecorded(5),
      event: event(9),
    })
    expect(readRecordHeader(bytes)).toEqual({
      type: 'rest',
      prev: 'cd'.repeat(32),
      recorded: formatRecorded(5),
      seq: 123,
      stream: 'st-1',
      v: 1,
    })
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 }), (at, value) => {
        const b = bytes.slice()
        b[at] = value
        const h = readRecordHeader(b)
        if (h === null) return
        let parsed: { seq: number; prev: string; stream: string } | undefined
        try {
          parsed = JSON.parse(new TextDecoder().decode(b))
        } catch {
          return // a header can sit at the end of bytes that are not JSON; the hash catches those
        }
        expect(h.seq).toBe(parsed!.seq)
        expect(h.prev).toBe(parsed!.prev)
        expect(h.stream).toBe(parsed!.stream)
      }),
      { numRuns: 2000 },
    )
  })

  it('encodes a record canonically and formats recorded times', () => {
    expect(formatRecorded(0)).toBe('1970-01-01T00:00:00.000Z')
    expect(() => formatRecorded(Number.NaN)).toThrow(RangeError)
    const bytes = encodeRecord({
      v: 1,
      stream: 's',
      seq: 0,
      prev: '0'.repeat(64),
      recorded: formatRecorded(0),
      event: event(0),
    })
    const text = new TextDecoder().decode(bytes)
    expect(text.startsWith('{"event":{')).toBe(true)
    expect(text.endsWith('"seq":0,"stream":"s","v":1}')).toBe(true)
  })
})

describe('createPseudonymizer', () => {
  const key = new Uint8Array(32).fill(9)
  it('is deterministic per key, differs across keys, and fits the schema', () => {
    const a = createPseudonymizer(key, { keyId: 'k1' })
    const b = createPseudonymizer(new Uint8Array(32).fill(8), { keyId: 'k1' })
    expect(a.pseudonym('MRN-1')).toBe(a.pseudonym('MRN-1'))
    expect(a.pseudonym('MRN-1')).not.toBe(a.pseudonym('MRN-2'))
    expect(a.pseudonym('MRN-1')).not.toBe(b.pseudonym('MRN-1'))
    expect(a.pseudonym('MRN-1')).toMatch(/^ps:k1:[A-Za-z0-9_-]{43}$/)
    expect(() => validateEvent({ ...event(1), patient: a.pseudonym('Jöhn Smith') })).not.toThrow()
    expect(createPseudonymizer(key).keyId).toMatch(/^[0-9a-f]{8}$/)
  })
  it('refuses short keys and bad key ids', () => {
    expect(() => createPseudonymizer(new Uint8Array(16))).toThrow(RangeError)
    expect(() => createPseudonymizer(key, { keyId: 'a b' })).toThrow(RangeError)
    expect(() => createPseudonymizer('k' as unknown as Uint8Array)).toThrow(TypeError)
    expect(() => createPseudonymizer(key).pseudonym('')).toThrow(RangeError)
  })
})
