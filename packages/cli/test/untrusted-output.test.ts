/**
 * Text from untrusted input (envelope headers, policy and keyring files, error messages quoting
 * them) never reaches the terminal raw: control, C1 and bidirectional characters are escaped in
 * human output, and written as \uXXXX escapes in JSON text.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliIO, jsonText, runCli, safeText, writeLine } from '../src/index.js'
import { fakeIO } from './helpers.js'

/** True when `s` holds a character that must not reach a terminal raw (TAB and LF allowed). */
function hasRaw(s: string): boolean {
  for (const ch of s) {
    const c = ch.codePointAt(0) as number
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a) || (c >= 0x7f && c <= 0x9f)) return true
    if ([0x061c, 0x200e, 0x200f, 0x2028, 0x2029].includes(c)) return true
    if ((c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) return true
  }
  return false
}
const bidi = [
  '\u061c',
  '\u200e',
  '\u200f',
  '\u202a',
  '\u202b',
  '\u202c',
  '\u202d',
  '\u202e',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
]

describe('safeText', () => {
  it('escapes C0, DEL, C1, line separators and bidi controls; keeps printable text', () => {
    expect(safeText('a\x1b]0;title\x07b')).toBe('a\\x1b]0;title\\x07b')
    expect(safeText('x\r\ny\tz')).toBe('x\\r\\ny\\tz')
    expect(safeText('\x00\x7f\x85\x9b')).toBe('\\x00\\x7f\\x85\\x9b')
    expect(safeText('\u2028\u2029')).toBe('\\u2028\\u2029')
    for (const c of bidi)
      expect(safeText(`a${c}b`)).toBe(`a\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}b`)
    expect(safeText('Zürich 東京 local:patients@v2 🙂')).toBe('Zürich 東京 local:patients@v2 🙂')
    expect(safeText('a\nb\tc\x1b', { multiline: true })).toBe('a\nb\tc\\x1b')
  })

  it('property: the result never holds a raw unsafe character and is unchanged for safe text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const out = safeText(s)
        expect(hasRaw(out)).toBe(false)
        expect(out).not.toMatch(/[\t\n]/)
        if (!hasRaw(s) && !/[\t\n]/.test(s)) expect(out).toBe(s)
      }),
    )
  })

  it('property: jsonText is lossless and its text holds no raw unsafe character', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' })), (doc) => {
        const text = jsonText(doc)
        expect(hasRaw(text)).toBe(false)
        expect(JSON.parse(text)).toEqual(doc)
      }),
    )
  })

  it('writeLine escapes everything but TAB and LF as a backstop', () => {
    const f = fakeIO()
    writeLine(f.io, 'a\tb\x1b[2J\rc\u202e')
    expect(f.stdout()).toBe('a\tb\\x1b[2J\\rc\\u202e\n')
  })
})

describe('inspect and decrypt of an envelope with a crafted key reference', () => {
  let dir: string
  const name = 'x'.repeat(16)
  // 16 UTF-8 bytes: set the window title (OSC 0 … BEL), return and new line (forge a line), a right-
  // to-left override and a C1 NEL.
  const crafted = '\x1b]0;pw\x07\r\n\u202e\u0085AB'
  async function cli(argv: string[]) {
    const f = fakeIO('')
    const out: Uint8Array[] = []
    const stdout = new PassThrough()
    stdout.on('data', (c: Uint8Array) => out.push(c))
    const io: CliIO = { ...f.io, stdout, cwd: dir, stdin: Readable.from([]) }
    const code = await runCli(argv, io)
    return { code, stdout: new TextDecoder().decode(Buffer.concat(out)), stderr: f.stderr() }
  }
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sg-cli-untrusted-'))
    expect(new TextEncoder().encode(crafted).length).toBe(16)
    await cli(['keys', 'init', '--keyring', 'k.json', '--name', name])
    writeFileSync(join(dir, 'p.bin'), 'secret data')
    expect((await cli(['encrypt', '--keyring', 'k.json', '--in', 'p.bin', '--out', 'c.hge'])).code).toBe(0)
    const bytes = new Uint8Array(readFileSync(join(dir, 'c.hge')))
    const at = Buffer.from(bytes).indexOf(name)
    expect(at).toBeGreaterThan(0)
    bytes.set(new TextEncoder().encode(crafted), at)
    writeFileSync(join(dir, 'evil.hge'), bytes)
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('inspect prints the key reference escaped, on its own line', async () => {
    const r = await cli(['inspect', '--in', 'evil.hge'])
    expect(r.code).toBe(0)
    expect(hasRaw(r.stdout)).toBe(false)
    expect(r.stdout).toContain('key: local:\\x1b]0;pw\\x07\\r\\n\\u202e\\x85AB@v1 (provider local)\n')
    expect(r.stdout.split('\n').filter((l) => l.startsWith('key: '))).toHaveLength(1)
  })

  it('inspect --json keeps the exact value, escaped in the JSON text', async () => {
    const r = await cli(['inspect', '--in', 'evil.hge', '--json'])
    expect(r.code).toBe(0)
    expect(hasRaw(r.stdout)).toBe(false)
    expect(r.stdout).toContain('\\u001b]0;pw\\u0007\\r\\n\\u202e\\u0085AB@v1')
    expect(JSON.parse(r.stdout).keys[0].keyRef).toBe(`local:${crafted}@v1`)
  })

  it('decrypt names the key reference escaped in its one-line error', async () => {
    const r = await cli(['decrypt', '--keyring', 'k.json', '--in', 'evil.hge'])
    expect(r.code).toBe(3)
    expect(r.stdout).toBe('')
    expect(hasRaw(r.stderr)).toBe(false)
    expect(r.stderr.split('\n')).toHaveLength(2) // one line and its newline
    expect(r.stderr).toContain('local:\\x1b]0;pw\\x07\\r\\n\\u202e\\x85AB@v1')
  })
})
