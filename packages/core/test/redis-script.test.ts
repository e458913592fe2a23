/**
 * The EVALSHA protocol the Redis stores share (`src/redis-script.ts`), against a scripted server:
 * loaded on first use, run by SHA-1, loaded again once after NOSCRIPT, a second NOSCRIPT or any
 * other failure passed on untouched, a SCRIPT LOAD reply that is not a string refused. The stores'
 * own suites run it against a real Redis (session-redis, rbac), NOSCRIPT included.
 */
import { describe, expect, it } from 'vitest'
import { isNoScript, RedisScript, type RedisSend } from '../src/index.js'

const SHA = 'a'.repeat(40)
const noScript = (): Error => new Error('NOSCRIPT No matching script. Please use EVAL.')

/** A server that answers from `replies` in order and records every command. */
function server(replies: Array<unknown | Error>): { send: RedisSend; sent: string[][] } {
  const sent: string[][] = []
  const send: RedisSend = async (args) => {
    sent.push(args)
    const r = replies.shift()
    if (r instanceof Error) throw r
    return r
  }
  return { send, sent }
}

describe('RedisScript', () => {
  it('loads on first use, then runs by SHA-1 only', async () => {
    const script = new RedisScript('return 1')
    const { send, sent } = server([SHA, 1, 2])
    expect(script.sha).toBeNull()
    expect(await script.run(send, ['k1', 'k2'], ['a'])).toBe(1)
    expect(await script.run(send, [], [])).toBe(2)
    expect(sent).toEqual([
      ['SCRIPT', 'LOAD', 'return 1'],
      ['EVALSHA', SHA, '2', 'k1', 'k2', 'a'],
      ['EVALSHA', SHA, '0'],
    ])
    expect(script.sha).toBe(SHA)
  })

  it('after NOSCRIPT loads again and retries once; a second NOSCRIPT is thrown', async () => {
    const script = new RedisScript('return 1')
    const again = server([SHA, noScript(), SHA, 'ok'])
    expect(await script.run(again.send, ['k'], [])).toBe('ok')
    expect(again.sent.map((a) => a[0])).toEqual(['SCRIPT', 'EVALSHA', 'SCRIPT', 'EVALSHA'])
    const twice = server([noScript(), SHA, noScript()])
    await expect(script.run(twice.send, ['k'], [])).rejects.toThrow(/^NOSCRIPT/)
    expect(twice.sent).toHaveLength(3)
  })

  it('passes any other failure on untouched, without reloading', async () => {
    const script = new RedisScript('return 1')
    const down = new Error('ECONNRESET')
    const s = server([SHA, down])
    await expect(script.run(s.send, [], [])).rejects.toBe(down)
    expect(s.sent).toHaveLength(2)
    expect(script.sha).toBe(SHA)
  })

  it('refuses a SCRIPT LOAD reply that is not a string, and an empty script', async () => {
    for (const reply of [null, undefined, 1, '', ['sha']]) {
      const script = new RedisScript('return 1')
      await expect(script.run(server([reply]).send, [], []), String(reply)).rejects.toBeInstanceOf(TypeError)
      expect(script.sha).toBeNull()
    }
    expect(() => new RedisScript('')).toThrow(TypeError)
  })

  it('forget() makes the next run load the script again', async () => {
    const script = new RedisScript('return 1')
    const s = server([SHA, 1, SHA, 2])
    await script.run(s.send, [], [])
    script.forget()
    expect(script.sha).toBeNull()
    await script.run(s.send, [], [])
    expect(s.sent.map((a) => a[0])).toEqual(['SCRIPT', 'EVALSHA', 'SCRIPT', 'EVALSHA'])
  })
})

describe('isNoScript', () => {
  it('recognises NOSCRIPT on the error or on its cause, nothing else', () => {
    expect(isNoScript(noScript())).toBe(true)
    expect(isNoScript(new Error('store failed', { cause: noScript() }))).toBe(true)
    for (const e of [new Error('ERR unknown'), new Error('x NOSCRIPT'), 'NOSCRIPT', null, undefined, {}])
      expect(isNoScript(e)).toBe(false)
  })
})
