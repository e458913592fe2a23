import { afterEach, describe, expect, it } from 'vitest'
import { PASSWORD, startApp, type TestApp } from './support/app.js'

describe('sign-in throttle over real HTTP', () => {
  let app: TestApp
  afterEach(async () => app?.close())
  const attempt = (password: string) =>
    fetch(`${app.base}/login`, { method: 'POST', body: JSON.stringify({ user: 'u-nurse', password }) })

  it('429 with Retry-After after the limit, even with the right password; a wrong password is a plain 401', async () => {
    app = await startApp()
    for (let i = 0; i < 3; i++) expect((await attempt('wrong')).status).toBe(401)
    const res = await attempt(PASSWORD)
    expect(res.status).toBe(429)
    expect(res.headers.get('retry-after')).toBe('120')
    expect(await res.json()).toEqual({ error: 'too_many_requests', reason: 'signin_throttled_account' })
  })

  it('503 throttle_store_unavailable when the shared store is down', async () => {
    app = await startApp({
      throttleStore: { hit: () => Promise.reject(new Error('down')), reset: () => Promise.resolve() },
    })
    const res = await attempt(PASSWORD)
    expect([res.status, await res.json()]).toEqual([
      503,
      { error: 'unavailable', reason: 'throttle_store_unavailable' },
    ])
    expect(res.headers.getSetCookie()).toEqual([])
  })
})
