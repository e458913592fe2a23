import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodePath, encodePath, formatManifest, parseManifest } from '../src/internal/manifest.js'
import { pathProblem } from '../src/internal/paths.js'
import { formatBagInfo, parseBagDeclaration, parseBagInfo, parseOxum } from '../src/internal/tag-files.js'

const segment = fc
  .string({ minLength: 1, maxLength: 12 })
  .filter((s) => !s.includes('/') && s !== '.' && s !== '..')

describe('manifest and path properties', () => {
  it('encodePath/decodePath round-trip any string', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        expect(decodePath(encodePath(s))).toBe(s)
      }),
    )
  })

  it('formatManifest → parseManifest round-trips safe payload paths (1.0 encoding)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.array(segment, { minLength: 1, maxLength: 3 }).map((p) => `data/${p.join('/')}`),
          {
            minLength: 1,
            maxLength: 20,
          },
        ),
        (paths) => {
          const entries = paths.map((path, i) => ({ path, digest: i.toString(16).padStart(64, '0') }))
          const parsed = parseManifest(formatManifest(entries), 'sha256', true)
          expect('lines' in parsed).toBe(true)
          if ('lines' in parsed) {
            const got = new Map(parsed.lines.map((l) => [l.path, l.digest]))
            for (const e of entries) {
              // A leading "./" would be stripped: such names cannot start a data/ path anyway.
              expect(got.get(e.path)).toBe(e.digest)
            }
          }
        },
      ),
    )
  })

  it('pathProblem accepts no path with a ".." segment, a leading "/", "~" or a backslash', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(segment, fc.constant('..'), fc.constant('.')), { minLength: 1, maxLength: 5 }),
        fc.constantFrom('', '/', '~', 'C:'),
        (parts, prefix) => {
          const path = `${prefix}${parts.join('/')}`
          const problem = pathProblem(path)
          if (
            parts.includes('..') ||
            parts.includes('.') ||
            prefix !== '' ||
            // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are the point
            /[\\\u0000-\u001f\u007f]/.test(path) ||
            path.startsWith('~')
          )
            expect(problem).not.toBeNull()
        },
      ),
    )
  })

  it('parseManifest never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.boolean(), (text, v1) => {
        const r = parseManifest(text, 'sha256', v1)
        expect('lines' in r || 'badLine' in r).toBe(true)
      }),
    )
  })

  it('bag-info round-trips single-line values; arbitrary text never throws', () => {
    const label = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/)
    const value = fc.string({ maxLength: 40 }).map((v) => v.replace(/[\r\n]/g, ' ').trim())
    fc.assert(
      fc.property(fc.array(fc.record({ label, value }), { maxLength: 10 }), (entries) => {
        expect(parseBagInfo(formatBagInfo(entries))).toEqual(entries)
      }),
    )
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (text) => void parseBagInfo(text)))
  })

  it('bag declarations: only the strict form parses', () => {
    const enc = (s: string) => new TextEncoder().encode(s)
    expect(
      parseBagDeclaration(enc('BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n')),
    ).toMatchObject({
      major: 1,
      minor: 0,
    })
    expect(
      parseBagDeclaration(enc('BagIt-Version: 1.0\r\nTag-File-Character-Encoding: UTF-8')),
    ).not.toBeNull()
    for (const bad of [
      '\ufeffBagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n',
      'BagIt-Version : 1.0\nTag-File-Character-Encoding: UTF-8\n',
      'BagIt-Version: 1.0 \nTag-File-Character-Encoding: UTF-8\n',
      'BagIt-Version: .97\nTag-File-Character-Encoding: UTF-8\n',
      'BagIt-Version: 1.0\n',
      'BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\nExtra: 1\n',
    ])
      expect(parseBagDeclaration(enc(bad))).toBeNull()
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => void parseBagDeclaration(b)))
  })

  it('Payload-Oxum parses sizes beyond 2^53 exactly', () => {
    expect(parseOxum('18446744073709551617.3')).toEqual({ bytes: 18446744073709551617n, files: 3n })
    expect(parseOxum('12')).toBeNull()
    expect(parseOxum('-1.1')).toBeNull()
  })
})
