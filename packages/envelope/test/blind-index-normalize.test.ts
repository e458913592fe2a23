/**
 * Blind-index normalisers (issue 17 §2): canonical forms, property tests (idempotent; equal inputs
 * written differently give equal outputs; a different value gives a different output), and
 * rejection of bad input with BlindIndexInputError (ERR_BLIND_INDEX_INPUT), never echoing it.
 */
import { errorCode } from '@safeguards/core/node'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  BlindIndexInputError,
  compoundNormalizer,
  dateNormalizer,
  normalizeDate,
  normalizeEmail,
  normalizeName,
  normalizePhone,
  normalizeSsn,
  normalizeText,
  phoneNormalizer,
  textNormalizer,
} from '../src/index.js'

/** Asserts a BlindIndexInputError from `normalizer` whose message does not contain the input. */
function refuses(fn: (v: string) => unknown, input: string, normalizer: string): void {
  try {
    fn(input)
  } catch (e) {
    expect(e).toBeInstanceOf(BlindIndexInputError)
    expect(errorCode(e)).toBe('ERR_BLIND_INDEX_INPUT')
    expect((e as BlindIndexInputError).normalizer).toBe(normalizer)
    if (input.trim().length >= 4) expect((e as Error).message).not.toContain(input.trim())
    return
  }
  throw new Error(`accepted ${JSON.stringify(input)}`)
}

const digit = fc.constantFrom(...'0123456789')
const digits = (n: number) => fc.array(digit, { minLength: n, maxLength: n }).map((d) => d.join(''))
const sep = fc.constantFrom('', ' ', '-', '.', '  ', '\u2013', '\u2212', '\u00a0')
const fullWidth = (s: string) => s.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d)))
const anyText = fc.string({ unit: 'grapheme', maxLength: 40 })

function idempotent(fn: (v: string) => string, arb: fc.Arbitrary<string>): void {
  fc.assert(
    fc.property(arb, (input) => {
      let once: string
      try {
        once = fn(input)
      } catch (e) {
        expect(e).toBeInstanceOf(BlindIndexInputError)
        return
      }
      expect(fn(once)).toBe(once)
    }),
    { numRuns: 500 },
  )
}

describe('normalizeSsn', () => {
  it('keeps the nine digits of every spelling', () => {
    for (const s of [
      '123-45-6789',
      '123 45 6789',
      '123456789',
      ' 123.45.6789 ',
      '１２３４５６７８９',
      '123–45–6789',
    ])
      expect(normalizeSsn(s)).toBe('123456789')
  })

  it('is idempotent, spelling-independent and injective on digits', () => {
    idempotent(normalizeSsn, anyText)
    fc.assert(
      fc.property(digits(3), digits(2), digits(4), sep, sep, fc.boolean(), (a, b, c, s1, s2, wide) => {
        const written = `${a}${s1}${b}${s2}${c}`
        expect(normalizeSsn(wide ? fullWidth(written) : written)).toBe(`${a}${b}${c}`)
      }),
    )
    fc.assert(
      fc.property(digits(9), digits(9), (x, y) => {
        expect(normalizeSsn(x) === normalizeSsn(y)).toBe(x === y)
      }),
    )
  })

  it('refuses anything but nine digits', () => {
    for (const bad of [
      '',
      '12345678',
      '1234567890',
      '123-45-678X',
      'ssn 123456789',
      '123/45/6789',
      '+123456789',
    ])
      refuses(normalizeSsn, bad, 'ssn')
    expect(() => normalizeSsn(123456789 as unknown as string)).toThrow(TypeError)
    refuses(normalizeSsn, '1'.repeat(5000), 'ssn')
  })
})

describe('normalizePhone', () => {
  it('gives E.164: + and digits', () => {
    for (const s of [
      '+1 (555) 010-0100',
      '555.010.0100',
      '1-555-010-0100',
      '(555) 010 0100',
      '001 555 010 0100',
      '011 1 555 010 0100',
      '＋１ ５５５ ０１０ ０１００',
    ])
      expect(normalizePhone(s)).toBe('+15550100100')
    expect(normalizePhone('+44 20 7946 0000')).toBe('+442079460000')
    const uk = phoneNormalizer({ defaultCountryCode: '44' })
    expect(uk('020 7946 0000')).toBe('+442079460000')
    expect(uk('+1 555 010 0100')).toBe('+15550100100')
    expect(() => phoneNormalizer({ defaultCountryCode: '+44' })).toThrow(RangeError)
    expect(() => phoneNormalizer({ defaultCountryCode: '0' })).toThrow(RangeError)
    expect(() => phoneNormalizer({ defaultCountryCode: 44 as unknown as string })).toThrow(TypeError)
  })

  it('is idempotent and spelling-independent', () => {
    idempotent(normalizePhone, anyText)
    idempotent(
      normalizePhone,
      fc.tuple(fc.constantFrom('', '+', '+1 ', '00'), digits(10)).map(([p, d]) => p + d),
    )
    idempotent(
      phoneNormalizer({ defaultCountryCode: '44' }),
      fc.tuple(fc.constantFrom('', '+', '0', '00'), digits(10)).map(([p, d]) => p + d),
    )
    fc.assert(
      fc.property(
        digits(3),
        digits(3),
        digits(4),
        sep,
        fc.constantFrom('', '+1 ', '1-', '001 '),
        (a, b, c, s, prefix) => {
          fc.pre(!a.startsWith('0') && !a.startsWith('1'))
          const paren = `${prefix}(${a})${s}${b}${s}${c}`
          expect(normalizePhone(paren)).toBe(`+1${a}${b}${c}`)
          expect(normalizePhone(`${a}${b}${c}`)).toBe(`+1${a}${b}${c}`)
        },
      ),
    )
  })

  it('refuses letters, extensions and wrong lengths', () => {
    for (const bad of [
      '',
      '555-0100',
      '1-800-FLOWERS',
      '555 010 0100 x12',
      '555 010 0100 ext. 12',
      '+1234567890123456',
      '+0 555 0100',
      '123456789',
    ])
      refuses(normalizePhone, bad, 'phone')
  })
})

describe('normalizeEmail', () => {
  it('trims, applies NFKC and folds case', () => {
    expect(normalizeEmail('  Jane.Doe@Example.ORG ')).toBe('jane.doe@example.org')
    expect(normalizeEmail('ＪＡＮＥ@ｅｘａｍｐｌｅ.org')).toBe('jane@example.org')
    expect(normalizeEmail('STRASSE@example.de')).toBe(normalizeEmail('straße@example.de'))
    expect(normalizeEmail('ΟΔΟΣ@example.gr')).toBe(normalizeEmail('οδοσ@example.gr'))
    expect(normalizeEmail('jane+lab@example.org')).toBe('jane+lab@example.org') // aliases kept
  })

  it('is idempotent and case-insensitive', () => {
    idempotent(normalizeEmail, anyText)
    idempotent(
      normalizeEmail,
      fc.tuple(anyText, anyText).map(([a, b]) => `${a}@${b}`),
    )
    fc.assert(
      fc.property(fc.emailAddress(), (email) => {
        const n = normalizeEmail(email)
        expect(normalizeEmail(email.toUpperCase())).toBe(n)
        expect(normalizeEmail(`  ${email}\t`)).toBe(n)
      }),
    )
  })

  it('refuses addresses without exactly one @ or with white space', () => {
    for (const bad of [
      '',
      'jane',
      '@example.org',
      'jane@',
      'jane@@example.org',
      'a@b@c',
      'jane doe@example.org',
    ])
      refuses(normalizeEmail, bad, 'email')
  })
})

describe('normalizeDate', () => {
  it('reads the common forms as ISO YYYY-MM-DD', () => {
    for (const s of [
      '1980-03-12',
      '1980/3/12',
      '1980.03.12',
      '19800312',
      '1980-03-12T00:00:00Z',
      '1980-03-12T00:00:00.000Z',
      '03/12/1980',
      '3-12-1980',
      '12.03.1980',
      '12 Mar 1980',
      '12-MAR-1980',
      'March 12, 1980',
      'Mar. 12 1980',
      '１９８０-０３-１２',
    ])
      expect(normalizeDate(s)).toBe('1980-03-12')
    expect(dateNormalizer({ order: 'dmy' })('12/03/1980')).toBe('1980-03-12')
    expect(normalizeDate('2000-02-29')).toBe('2000-02-29')
    expect(normalizeDate('0001-01-01')).toBe('0001-01-01')
    expect(() => dateNormalizer({ order: 'ymd' as 'mdy' })).toThrow(RangeError)
  })

  it('is idempotent and form-independent over every real date', () => {
    idempotent(normalizeDate, anyText)
    const dates = fc.date({
      min: new Date('0001-01-01T00:00:00Z'),
      max: new Date('9999-12-31T00:00:00Z'),
      noInvalidDate: true,
    })
    fc.assert(
      fc.property(dates, (d) => {
        const iso = d.toISOString().slice(0, 10)
        const [y, m, day] = iso.split('-') as [string, string, string]
        expect(normalizeDate(iso)).toBe(iso)
        expect(normalizeDate(`${y}${m}${day}`)).toBe(iso)
        expect(normalizeDate(`${Number(m)}/${Number(day)}/${y}`)).toBe(iso)
        expect(normalizeDate(`${day}.${m}.${y}`)).toBe(iso)
        expect(normalizeDate(`${iso}T00:00:00.000Z`)).toBe(iso)
      }),
    )
  })

  it('refuses dates that do not exist, two-digit years, times and other forms', () => {
    for (const bad of [
      '',
      '1980-02-30',
      '1981-02-29',
      '1900-02-29',
      '1980-13-01',
      '1980-00-10',
      '0000-01-01',
      '03/12/80',
      '1980-03-12T10:00:00Z',
      '1980-03-12T00:00:00+02:00',
      '12 Smarch 1980',
      'yesterday',
      '1980-03-12 and more',
    ])
      refuses(normalizeDate, bad, 'date')
  })
})

describe('normalizeText and normalizeName', () => {
  it('applies NFKC, trims and collapses white space; names fold case', () => {
    expect(normalizeText(' Ward\u00a0 7 ')).toBe('Ward 7')
    expect(normalizeText('ﬁle\tname')).toBe('file name')
    expect(normalizeText('Doe')).not.toBe(normalizeText('doe'))
    expect(normalizeName(' DOE ')).toBe('doe')
    expect(normalizeName('Müller')).toBe(normalizeName('MÜLLER'))
    expect(normalizeName('Mu\u0308ller')).toBe(normalizeName('Müller')) // NFKC composes
  })

  it('is idempotent; names ignore case and spacing', () => {
    idempotent(normalizeText, anyText)
    idempotent(normalizeName, anyText)
    idempotent(normalizeName, fc.string({ unit: 'binary', maxLength: 20 }))
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[A-Za-z]{1,8}$/), { minLength: 1, maxLength: 3 }), (words) => {
        expect(normalizeName(`  ${words.join('   ').toUpperCase()} `)).toBe(
          normalizeName(words.join(' ').toLowerCase()),
        )
      }),
    )
  })

  it('refuses empty values and lone surrogates', () => {
    for (const bad of ['', '   ', '\u3000']) refuses(normalizeText, bad, 'text')
    refuses(textNormalizer({ caseFold: true }), '\ud800x', 'text')
  })
})

describe('compoundNormalizer', () => {
  const byNameAndBirth = compoundNormalizer({ lastName: normalizeName, birthDate: normalizeDate })

  it('uses an unambiguous length-prefixed encoding, sorted by field name', () => {
    const out = byNameAndBirth({ lastName: 'Doe', birthDate: '1980-03-12' })
    const hex = Buffer.from(out).toString('hex')
    const lp = (s: string) =>
      Buffer.from(s).length.toString(16).padStart(8, '0') + Buffer.from(s).toString('hex')
    expect(hex).toBe(`00000002${lp('birthDate')}${lp('1980-03-12')}${lp('lastName')}${lp('doe')}`)
    const pair = compoundNormalizer({ a: normalizeText, b: normalizeText })
    expect(Buffer.from(pair({ a: 'ab', b: 'c' })).equals(Buffer.from(pair({ a: 'a', b: 'bc' })))).toBe(false)
    // extra fields of a row are ignored; spelling of each field is normalised
    expect(byNameAndBirth({ lastName: ' DOE', birthDate: 'March 12, 1980', ssn: 'x' } as never)).toEqual(out)
  })

  it('is injective on the normalised fields', () => {
    const pair = compoundNormalizer({ a: normalizeText, b: normalizeText })
    const word = fc
      .string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 6 })
      .filter((s) => s.trim() === s && !/\s/.test(s))
    fc.assert(
      fc.property(word, word, word, word, (a1, b1, a2, b2) => {
        const same = Buffer.from(pair({ a: a1, b: b1 })).equals(Buffer.from(pair({ a: a2, b: b2 })))
        expect(same).toBe(a1 === a2 && b1 === b2)
      }),
    )
  })

  it('refuses missing fields, bad field values and bad definitions', () => {
    expect(() => byNameAndBirth({ lastName: 'Doe' } as never)).toThrow(BlindIndexInputError)
    try {
      byNameAndBirth({ lastName: 'Doe', birthDate: '1980-02-30' })
    } catch (e) {
      expect((e as BlindIndexInputError).normalizer).toBe('date')
    }
    expect(() => byNameAndBirth(null as never)).toThrow(TypeError)
    expect(() => compoundNormalizer({})).toThrow(TypeError)
    expect(() => compoundNormalizer({ a: 'x' as never })).toThrow(TypeError)
  })
})
