import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSessionManager } from '@safeguards/session'
import { describe, expect, it } from 'vitest'
import { runCli } from '../src/index.js'
import { fakeIO } from './helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'sg-session-cli-'))
const file = (name: string, text: string): string => {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}

describe('safeguards session', () => {
  it('policy prints the defaults', async () => {
    const f = fakeIO()
    expect(await runCli(['session', 'policy'], f.io)).toBe(0)
    expect(f.stdout()).toBe(
      'default: idle 15 min, absolute 12 h\nsessions per user: at most 10, then evict-oldest\n',
    )
  })

  it('policy validates a file and prints role overrides, as text or JSON', async () => {
    const p = file(
      'ok.json',
      JSON.stringify({
        roles: {
          admin: { idleTimeoutMs: 300000, absoluteTimeoutMs: 14400000 },
          kiosk: { idleTimeoutMs: 90500, absoluteTimeoutMs: 90500 },
        },
        maxSessionsPerUser: 3,
        onSessionLimit: 'reject',
      }),
    )
    const f = fakeIO()
    expect(await runCli(['session', 'policy', '--file', p], f.io)).toBe(0)
    expect(f.stdout()).toContain('role admin: idle 5 min, absolute 4 h')
    expect(f.stdout()).toContain('role kiosk: idle 90500 ms')
    expect(f.stdout()).toContain('at most 3, then reject')
    const g = fakeIO()
    expect(await runCli(['session', 'policy', '--file', p, '--json'], g.io)).toBe(0)
    expect(JSON.parse(g.stdout())).toMatchObject({
      defaults: { idleTimeoutMs: 900000 },
      maxSessionsPerUser: 3,
    })
  })

  it.each([
    ['bad.json', '{"idleTimeoutMs": 0}', /idleTimeoutMs/],
    ['dup.json', '{"idleTimeoutMs": 1, "idleTimeoutMs": 2}', /not valid JSON/],
    ['order.json', '{"idleTimeoutMs": 7200000, "absoluteTimeoutMs": 3600000}', /must not exceed/],
  ])('policy refuses %s with exit 2 and one line', async (name, text, pattern) => {
    const f = fakeIO()
    expect(await runCli(['session', 'policy', '--file', file(name, text)], f.io)).toBe(2)
    expect(f.stderr().trim().split('\n')).toHaveLength(1)
    expect(f.stderr()).toMatch(pattern)
  })

  it('policy refuses a missing file (74, naming it) or a non-UTF-8 one (2)', async () => {
    const f = fakeIO()
    expect(await runCli(['session', 'policy', '--file', join(dir, 'missing.json')], f.io)).toBe(74)
    expect(f.stderr()).toContain(`cannot read the --file ${join(dir, 'missing.json')} (ENOENT)`)
    const p = join(dir, 'latin1.json')
    writeFileSync(p, new Uint8Array([0x7b, 0xff, 0x7d]))
    expect(await runCli(['session', 'policy', '--file', p], fakeIO().io)).toBe(2)
    const big = join(dir, 'big.json')
    writeFileSync(big, ' '.repeat((1 << 20) + 1))
    const g = fakeIO()
    expect(await runCli(['session', 'policy', '--file', big], g.io)).toBe(2)
    expect(g.stderr()).toMatch(/1 MiB/)
  })

  it('id reads a token on stdin and prints the session id the store uses', async () => {
    const sessions = createSessionManager()
    const { token, session } = await sessions.create('u-1')
    const f = fakeIO(`${token}\n`)
    expect(await runCli(['session', 'id'], f.io)).toBe(0)
    expect(f.stdout()).toBe(`${session.id}\n`)
    const g = fakeIO(token)
    expect(await runCli(['session', 'id', '--json'], g.io)).toBe(0)
    expect(JSON.parse(g.stdout())).toEqual({ sessionId: session.id })
    expect(g.stdout() + g.stderr()).not.toContain(token)
  })

  it('id refuses a malformed or oversized token without echoing it', async () => {
    const f = fakeIO('not-a-token-secret')
    expect(await runCli(['session', 'id'], f.io)).toBe(1)
    expect(f.stderr()).not.toContain('not-a-token-secret')
    expect(await runCli(['session', 'id'], fakeIO('x'.repeat(5000)).io)).toBe(2)
  })

  it('unknown or missing subcommands are usage errors', async () => {
    expect(await runCli(['session'], fakeIO().io)).toBe(2)
    expect(await runCli(['session', 'nope'], fakeIO().io)).toBe(2)
    expect(await runCli(['session', 'id', 'extra'], fakeIO().io)).toBe(2)
  })
})
