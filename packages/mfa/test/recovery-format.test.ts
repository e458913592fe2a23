import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { normalizeRecoveryCode } from '../src/recovery-codes.js'

const CROCKFORD = /^[0-9A-HJKMNP-TV-Z]{20}$/

describe('recovery code input (properties)', () => {
  it('any input normalises to 20 Crockford characters or is refused, never throws', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.anything()), (input) => {
        const n = normalizeRecoveryCode(input)
        if (n !== undefined) expect(n).toMatch(CROCKFORD)
      }),
    )
  })

  it('formatting noise (case, spaces, hyphens, look-alikes) does not change the code', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(CROCKFORD),
        fc.array(fc.constantFrom(' ', '-', '  '), { minLength: 20, maxLength: 20 }),
        fc.boolean(),
        (code, seps, lower) => {
          let typed = [...code].map((c, i) => c + (seps[i] ?? '')).join('')
          typed = typed.replace(/0/g, 'O').replace(/1/g, 'I')
          if (lower) typed = typed.toLowerCase()
          expect(normalizeRecoveryCode(typed)).toBe(code)
        },
      ),
    )
  })
})
