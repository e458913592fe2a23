import { manualClock } from '@safeguards/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compilePolicy, EmergencyAccessError, type EmergencyGrantRequest } from '../src/index.js'
import { isSubjectId } from '../src/internal/subject-id.js'
import { clinic, MONDAY_10AM } from './helpers.js'

// Subject ids in emergency access: one grammar (1 to 255 printable ASCII characters), exact
// comparison where a match grants, ASCII case-insensitive comparison where a match refuses.

const MIN = 60_000
const printable = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c))
const subjectId = fc.string({ unit: printable, minLength: 1, maxLength: 40 })
/** Characters that make a spelling look like another: spaces, control, format, zero-width, non-ASCII. */
const foreign = fc.oneof(
  fc.constantFrom(' ', '\t', '\n', '\r', '\0', '\x7f', '\u00a0', '\u00ad', '\u200b', '\u200c', '\u200d'),
  fc.constantFrom('\u2060', '\ufeff', '\u202e', '\u3000', '\u0130', '\u212a'),
  fc.integer({ min: 0x80, max: 0xd7ff }).map((c) => String.fromCharCode(c)),
)
/** Any character, biased towards the edges of the grammar (fast-check's 'binary' unit is slow to start). */
const anyChar = fc.oneof(
  printable,
  foreign,
  fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c)),
)
/** `id` with one foreign character inserted, or one character made fullwidth. */
const respelled = (id: string): fc.Arbitrary<string> =>
  fc.oneof(
    fc
      .tuple(fc.integer({ min: 0, max: id.length }), foreign)
      .map(([i, c]) => id.slice(0, i) + c + id.slice(i)),
    fc
      .integer({ min: 0, max: id.length - 1 })
      .map((i) => id.slice(0, i) + String.fromCharCode(id.charCodeAt(i) + 0xfee0) + id.slice(i + 1)),
  )
const caseScrambled = (id: string): fc.Arbitrary<string> =>
  fc
    .array(fc.boolean(), { minLength: id.length, maxLength: id.length })
    .map((up) => [...id].map((c, i) => (up[i] ? c.toUpperCase() : c.toLowerCase())).join(''))

function setup() {
  const clock = manualClock(MONDAY_10AM)
  const pdp = compilePolicy(clinic, { clock, resolvers: { careTeam: () => false } })
  const grant = (id: string) => {
    const r: EmergencyGrantRequest = {
      subject: { id, tenant: 'clinic-a', roles: ['nurse'] },
      patient: 'p-2',
      actions: ['read'],
      reasonCode: 'clinical-emergency',
      justification: 'Unresponsive patient in the ED; no care-team assignment yet.',
      minutes: 1,
    }
    return pdp.emergency.grant(r)
  }
  /** Reads p-2's observations as `id` under grant `g`. */
  const use = (id: string, g: string) =>
    pdp.decide({
      subject: { id, tenant: 'clinic-a', roles: ['nurse'] },
      action: 'read',
      resource: { type: 'Observation', tenant: 'clinic-a', patient: 'p-2' },
      emergencyAccess: g,
    })
  /** Ends grant `g` (one minute) and reviews it as `reviewer`: the error code, or undefined. */
  const endAndReview = (g: string, reviewer: string): string | undefined => {
    clock.advance(MIN)
    return codeOf(() => pdp.emergency.review(g, { reviewer, outcome: 'appropriate', notes: '' }))
  }
  return { pdp, grant, use, endAndReview }
}

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn()
  } catch (e) {
    if (e instanceof EmergencyAccessError) return e.code
    throw e
  }
  return undefined
}

describe('subject ids: the grammar', () => {
  it('accepts exactly 1 to 255 printable ASCII characters (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: anyChar, maxLength: 40 }),
          fc.string({ unit: printable, minLength: 250, maxLength: 260 }),
        ),
        (s) => {
          const expected = s.length >= 1 && s.length <= 255 && [...s].every((c) => c >= '!' && c <= '~')
          expect(isSubjectId(s)).toBe(expected)
        },
      ),
      { numRuns: 300 },
    )
    expect(isSubjectId('x'.repeat(255))).toBe(true)
    expect(isSubjectId('x'.repeat(256))).toBe(false)
    expect(isSubjectId('!~')).toBe(true)
    expect(isSubjectId(' ')).toBe(false)
    expect(isSubjectId(42)).toBe(false)
  })

  it('an id the grammar accepts is already trimmed and in NFKC: normalising would change nothing (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: anyChar, maxLength: 40 }), (s) => {
        if (isSubjectId(s)) expect(s.normalize('NFKC').trim()).toBe(s)
      }),
      { numRuns: 300 },
    )
  })

  it('real identity-provider ids pass', () => {
    for (const id of [
      '7c9e6679-7425-40de-944b-e07fc1f90ae7',
      'auth0|5f7c8ec7c33c6c004bbafe82',
      'google-oauth2|104834567890123456789',
      '00u1abcdEFGH2345ijkl',
      'Practitioner/123',
      'jane.doe+ed@example.org',
      'https://idp.example.org|248289761001',
    ])
      expect(isSubjectId(id), id).toBe(true)
  })
})

describe('subject ids: break-glass comparisons (property)', () => {
  it('the holder never reviews their own grant, whatever the case', () => {
    const { pdp, grant, endAndReview } = setup()
    fc.assert(
      fc.property(
        subjectId.chain((id) => fc.tuple(fc.constant(id), caseScrambled(id))),
        ([holder, reviewer]) => {
          const g = grant(holder)
          expect(endAndReview(g.id, reviewer)).toBe('ERR_RBAC_EMERGENCY_STATE')
          expect(pdp.emergency.get(g.id)?.review).toBeNull()
        },
      ),
      { numRuns: 200 },
    )
  })

  it('another spelling of an id is refused as a reviewer, a requester and a revoker, and never uses the grant', () => {
    const { pdp, grant, use, endAndReview } = setup()
    fc.assert(
      fc.property(
        subjectId.chain((id) => fc.tuple(fc.constant(id), respelled(id))),
        ([holder, other]) => {
          expect(isSubjectId(other)).toBe(false)
          const g = grant(holder)
          expect(use(other, g.id)).toMatchObject({
            allowed: false,
            emergencyAccess: { status: 'out_of_scope' },
          })
          expect(codeOf(() => grant(other))).toBe('ERR_RBAC_EMERGENCY_REQUEST_INVALID')
          expect(codeOf(() => pdp.emergency.revoke(g.id, other))).toBe('ERR_RBAC_EMERGENCY_REQUEST_INVALID')
          expect(endAndReview(g.id, other)).toBe('ERR_RBAC_EMERGENCY_REQUEST_INVALID')
        },
      ),
      { numRuns: 200 },
    )
  })

  it('a grant is used only under its holder id spelled exactly; anyone else may review it', () => {
    const { grant, use, endAndReview } = setup()
    fc.assert(
      fc.property(
        subjectId.chain((id) =>
          fc.tuple(fc.constant(id), fc.oneof(fc.constant(id), caseScrambled(id), subjectId)),
        ),
        ([holder, other]) => {
          const g = grant(holder)
          expect(use(other, g.id).allowed).toBe(other === holder)
          expect(endAndReview(g.id, other)).toBe(
            other.toLowerCase() === holder.toLowerCase() ? 'ERR_RBAC_EMERGENCY_STATE' : undefined,
          )
        },
      ),
      { numRuns: 200 },
    )
  })
})
