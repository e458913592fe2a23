import type { Clock } from '@safeguards/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { calibrate, checkPasswordPolicy, commonPasswords, type PasswordPolicyOptions } from '../src/index.js'

const codes = (pw: string, opts: PasswordPolicyOptions = {}): string[] =>
  checkPasswordPolicy(pw, opts).problems.map((p) => p.code)

describe('checkPasswordPolicy (NIST SP 800-63B rev 4)', () => {
  it('needs 15 characters single-factor and 8 with MFA, counted in code points after NFKC', () => {
    expect(codes('plum-violet-kettle')).toEqual([])
    expect(codes('plum-violet-k')).toEqual(['too-short'])
    expect(codes('plum-vio', { mfa: true })).toEqual([])
    expect(codes('plum-vi', { mfa: true })).toEqual(['too-short'])
    // 8 emoji are 16 UTF-16 units but 8 characters.
    expect(codes('🦊🐙🦉🐝🦋🐢🦔🐿', { mfa: true })).toEqual([])
    expect(codes('🦊🐙🦉🐝🦋🐢🦔', { mfa: true })).toEqual(['too-short'])
  })

  it('allows at least 64 characters and has no composition rules', () => {
    const long = 'the quick brown fox jumps over the lazy dog near the riverbank today'
    expect(long.length).toBeGreaterThan(64)
    expect(codes(long)).toEqual([])
    expect(codes('alllowercaseletterswithoutdigits')).toEqual([])
    expect(codes('x'.repeat(129).replace(/x/g, (_, i) => String.fromCharCode(97 + (i % 26))))).toContain(
      'too-long',
    )
  })

  it('refuses oversized input before anything else', () => {
    expect(codes('a'.repeat(1025))).toEqual(['too-large'])
    expect(codes('a'.repeat(1_000_000))).toEqual(['too-large'])
    expect(codes('\ufdfa'.repeat(200))).toEqual(['too-large'])
  })

  it('refuses lone surrogates and control characters', () => {
    expect(codes('valid-looking-\ud800-password')).toEqual(['invalid-text'])
    expect(codes('line\nbreak password here')).toEqual(['invalid-text'])
  })

  it('refuses blocklisted passwords, case-insensitively and with trailing digits', () => {
    expect(commonPasswords().size).toBeGreaterThan(40_000)
    expect(codes('password', { mfa: true })).toContain('blocklisted')
    expect(codes('PASSWORD1234567', {})).toContain('blocklisted')
    expect(codes('iloveyou2024!!', { mfa: true })).toContain('blocklisted')
    expect(codes('Ｐａｓｓｗｏｒｄ', { mfa: true })).toContain('blocklisted')
    expect(codes('qwertyuiop', { mfa: true })).toContain('blocklisted')
    expect(codes('tangerine-ocelot-88', {})).toEqual([])
    expect(codes('anything goes here', { isBlocked: (s: string) => s.startsWith('anything') })).toContain(
      'blocklisted',
    )
  })

  it('refuses repetitive and sequential strings', () => {
    expect(codes('aaaaaaaaaaaaaaaa')).toContain('repetitive')
    expect(codes('abababababababab')).toContain('repetitive')
    expect(codes('abcdefghijklmnop')).toContain('repetitive')
    expect(codes('9876543210', { mfa: true })).toContain('repetitive')
  })

  it('refuses context words: username, e-mail parts, service name', () => {
    const context = ['jdoe1987', 'jane.doe@stmarys-clinic.org', 'Acme Health']
    expect(codes('my-jdoe1987-secret-pw', { context })).toContain('context')
    expect(codes('JANE.DOE-forever-and-ever', { context })).toContain('context')
    expect(codes('stmarys-clinic-staff-2024', { context })).toContain('context')
    expect(codes('i work at acme health center', { context })).toContain('context')
    expect(codes('tangerine-ocelot-88', { context })).toEqual([])
    expect(codes('bob', { mfa: true, context: ['bob'] })).toContain('context')
  })

  it('validates its options', () => {
    expect(() => checkPasswordPolicy(1 as unknown as string)).toThrow(TypeError)
    expect(() => checkPasswordPolicy('x', { minLength: 6 })).toThrow(RangeError)
    expect(() => checkPasswordPolicy('x', { maxLength: 32 })).toThrow(RangeError)
    expect(() => checkPasswordPolicy('x', { minLength: 1.5 })).toThrow(TypeError)
  })

  it('never throws on any string and only passes what meets the length rules', () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.integer({ min: 0, max: 0x10ffff }).map((cp) => String.fromCodePoint(cp)),
          maxLength: 300,
        }),
        fc.boolean(),
        (pw, mfa) => {
          const r = checkPasswordPolicy(pw, { mfa, context: ['someone@example.org'] })
          expect(r.ok).toBe(r.problems.length === 0)
          if (r.ok) expect(Array.from(pw.normalize('NFKC')).length).toBeGreaterThanOrEqual(mfa ? 8 : 15)
        },
      ),
    )
  })
})

describe('calibrate', () => {
  it('keeps the floor when it already meets the target, and raises passes when it does not', async () => {
    const ticking = (step: number): Clock => {
      let t = 0
      return {
        now: () => {
          t += step
          return t
        },
      }
    }
    // Each hash "takes" 300 ms on this clock: the floor (t=2) already meets a 250 ms target.
    expect(await calibrate({ targetMs: 250, clock: ticking(300) })).toEqual({
      memoryCost: 19456,
      timeCost: 2,
      parallelism: 1,
      ms: 300,
    })
    // 100 ms per hash: passes rise, bounded by maxTimeCost.
    const r = await calibrate({ targetMs: 250, maxTimeCost: 3, clock: ticking(100) })
    expect(r.timeCost).toBe(3)
  })

  it('stays at or above the floor', async () => {
    await expect(calibrate({ memoryCost: 4096 })).rejects.toBeInstanceOf(RangeError)
    await expect(calibrate({ maxTimeCost: 1 })).rejects.toBeInstanceOf(RangeError)
    await expect(calibrate({ clock: (() => 0) as never })).rejects.toBeInstanceOf(TypeError)
  })
})
