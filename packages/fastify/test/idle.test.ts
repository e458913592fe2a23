import { describe, expect, it } from 'vitest'
import { withApp } from '../../http/test/support/conformance.js'
import { login, startApp } from './support/app.js'

// The shared idle cases run in server.test.ts (the conformance suite); this is Fastify's own.
const ctx = withApp(startApp)

describe('idle-watcher routes over real HTTP', () => {
  it('the keep-alive needs the CSRF header, and a refused one does not extend the session', async () => {
    const c = await login(ctx.app.base, 'u-nurse')
    ctx.app.clock.advance(50_000)
    expect(await ctx.call('/session/keep-alive', c, 'POST')).toEqual({
      status: 403,
      body: { error: 'forbidden', reason: 'csrf_missing' },
    })
    expect((await ctx.call('/session/status', c)).body.idleRemainingMs).toBe(10_000)
  })
})
