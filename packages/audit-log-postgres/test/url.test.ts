import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parsePostgresLogUrl } from '../src/index.js'

describe('parsePostgresLogUrl', () => {
  it('takes the store parameters out and leaves the rest to node-postgres', () => {
    expect(
      parsePostgresLogUrl('postgres://audit:p%40ss@db:5432/ehr?stream=ehr-prod&sslmode=require'),
    ).toEqual({
      connectionString: 'postgres://audit:p%40ss@db:5432/ehr?sslmode=require',
      stream: 'ehr-prod',
      schema: 'safeguards_audit',
      migrate: false,
    })
    expect(parsePostgresLogUrl('postgresql://h/db?schema=audit&stream=s1&migrate=true')).toEqual({
      connectionString: 'postgresql://h/db',
      stream: 's1',
      schema: 'audit',
      migrate: true,
    })
    expect(parsePostgresLogUrl('postgres:///db?host=%2Fvar%2Frun%2Fpostgresql', 'from-flag').stream).toBe(
      'from-flag',
    )
    expect(parsePostgresLogUrl('postgres://h/db?stream=same', 'same').stream).toBe('same')
  })

  it('refuses what it cannot use, without quoting the URL (it may hold a password)', () => {
    const cases: [string, RegExp][] = [
      ['postgres://u:secret@h/db', /needs a "stream"/],
      ['postgres://u:secret@h/db?stream=', /needs a "stream"/],
      ['postgres://u:secret@h/db?stream=a&stream=b', /repeats/],
      ['postgres://u:secret@h/db?stream=a&migrate=yes', /true or false/],
      ['mysql://u:secret@h/db?stream=a', /postgres:\/\//],
      ['postgres://u:secret@[::1/db?stream=a', /malformed/],
    ]
    for (const [url, message] of cases) {
      let error: unknown
      try {
        parsePostgresLogUrl(url)
      } catch (e) {
        error = e
      }
      expect(error).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(message) })
      expect(String((error as Error).message)).not.toContain('secret')
    }
    expect(() => parsePostgresLogUrl('postgres://h/db?stream=a', 'b')).toThrow(/twice/)
    expect(() => parsePostgresLogUrl('postgres://h/db?stream=-a')).toThrow(RangeError)
    expect(() => parsePostgresLogUrl('postgres://h/db?stream=a&schema=Public')).toThrow(RangeError)
    expect(() => parsePostgresLogUrl(42 as unknown as string)).toThrow(TypeError)
  })

  it('round-trips any stream id and keeps foreign parameters (property)', () => {
    const streamId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,40}$/)
    const param = fc.tuple(fc.stringMatching(/^[a-z_]{1,12}$/), fc.string({ maxLength: 20 }))
    fc.assert(
      fc.property(streamId, fc.array(param, { maxLength: 4 }), (stream, extra) => {
        const foreign = extra.filter(([k]) => !['stream', 'schema', 'migrate'].includes(k))
        const q = new URLSearchParams([...foreign, ['stream', stream]])
        const parsed = parsePostgresLogUrl(`postgres://u@h:1/db?${q.toString()}`)
        expect(parsed.stream).toBe(stream)
        const rest = new URL(parsed.connectionString).searchParams
        expect([...rest]).toEqual(foreign)
      }),
    )
  })
})
