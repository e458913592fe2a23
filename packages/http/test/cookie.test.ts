import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  clearCookie,
  HttpConfigError,
  MAX_COOKIE_HEADER,
  parseCookieHeader,
  readCookie,
  SESSION_COOKIE,
  serializeCookie,
  sessionCookie,
} from '../src/index.js'

const nameArb = fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/)
const valueArb = fc.stringMatching(/^[A-Za-z0-9_\-.~!#$%&'()*+/:<=>?@[\]^`{|}]{0,60}$/)

describe('cookie parser (fast-check)', () => {
  it('never throws on any header, and every value it returns came from the header', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (h) => {
        for (const [name, values] of parseCookieHeader(h)) {
          expect(h).toContain(name)
          for (const v of values) expect(h).toContain(v)
        }
      }),
    )
  })

  it('round-trips: the value serialised for a name is the value read back, whatever surrounds it', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(nameArb, valueArb), { selector: ([n]) => n, maxLength: 8 }),
        valueArb.filter((v) => v.length > 0),
        (others, value) => {
          const pairs = others.filter(([n]) => n !== SESSION_COOKIE).map(([n, v]) => `${n}=${v}`)
          const line = (sessionCookie(value).split(';')[0] as string).trim()
          const at = pairs.length === 0 ? 0 : value.length % (pairs.length + 1)
          pairs.splice(at, 0, line)
          expect(readCookie({ cookie: pairs.join('; ') }, SESSION_COOKIE)).toEqual({
            status: 'present',
            value,
          })
        },
      ),
    )
  })

  it('a name sent twice is a duplicate, never the first or the last', () => {
    fc.assert(
      fc.property(valueArb, valueArb, (a, b) => {
        expect(
          readCookie({ cookie: `${SESSION_COOKIE}=${a}; x=1; ${SESSION_COOKIE}=${b}` }, SESSION_COOKIE),
        ).toEqual({
          status: 'duplicate',
        })
      }),
    )
  })
})

describe('cookie boundaries', () => {
  it('absent: no header, an empty header, another cookie only, an empty value', () => {
    expect(readCookie({}, SESSION_COOKIE)).toEqual({ status: 'absent' })
    expect(readCookie({ cookie: '' }, SESSION_COOKIE)).toEqual({ status: 'absent' })
    expect(readCookie({ cookie: 'a=1' }, SESSION_COOKIE)).toEqual({ status: 'absent' })
    expect(readCookie({ cookie: `${SESSION_COOKIE}=` }, SESSION_COOKIE)).toEqual({ status: 'absent' })
  })

  it('oversized: a header over 8192 or a value over 4096', () => {
    const ok = `${SESSION_COOKIE}=v; p=${'x'.repeat(MAX_COOKIE_HEADER - 30)}`
    expect(readCookie({ cookie: ok }, SESSION_COOKIE).status).toBe('present')
    expect(readCookie({ cookie: `${ok}${'x'.repeat(40)}` }, SESSION_COOKIE)).toEqual({ status: 'oversized' })
    expect(readCookie({ cookie: `${SESSION_COOKIE}=${'v'.repeat(4097)}` }, SESSION_COOKIE)).toEqual({
      status: 'oversized',
    })
  })

  it('reads web Headers and Node header arrays alike; quotes are removed', () => {
    expect(readCookie(new Headers({ cookie: `${SESSION_COOKIE}="abc"` }), SESSION_COOKIE)).toEqual({
      status: 'present',
      value: 'abc',
    })
    expect(readCookie({ cookie: ['a=1', `${SESSION_COOKIE}=z`] }, SESSION_COOKIE)).toEqual({
      status: 'present',
      value: 'z',
    })
  })

  it('writes only __Host- cookies with safe values and attributes', () => {
    expect(clearCookie()).toBe('__Host-sg-session=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0')
    expect(sessionCookie('t', { sameSite: 'Strict' })).toBe(
      '__Host-sg-session=t; Path=/; Secure; HttpOnly; SameSite=Strict',
    )
    expect(() => serializeCookie('sid', 'x')).toThrow(HttpConfigError)
    expect(() => serializeCookie('__Host-a b', 'x')).toThrow(HttpConfigError)
    expect(() => serializeCookie('__Host-a', 'x; Domain=evil.example')).toThrow(HttpConfigError)
    expect(() => serializeCookie('__Host-a', 'x', { maxAge: -1 })).toThrow(HttpConfigError)
    expect(() => serializeCookie('__Host-a', 'x', { sameSite: 'None' as never })).toThrow(HttpConfigError)
  })
})
