/**
 * The idle watcher in a real browser: headless Chromium loads a page that runs
 * `createIdleWatcher` of `@safeguards/session` (its source, transpiled as is) against a real
 * Express server on @safeguards/express with short timeouts. The page warns before the idle
 * deadline and signs out at it; the server agrees (401 session_idle). Asserts on states only.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PASSWORD, startApp, type TestApp } from './support/app.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const require = createRequire(import.meta.url)
const ts = require('typescript') as typeof import('typescript')

function watcherModule(): string {
  const file = fileURLToPath(new URL('../../session/src/idle-watcher.ts', import.meta.url))
  const out = ts.transpileModule(readFileSync(file, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText
  if (!out.includes("from '@safeguards/core'")) throw new Error('idle-watcher imports changed')
  return out.replace("from '@safeguards/core'", "from '/core.js'")
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>idle</title><body data-state="loading">
<script type="module">
import { createIdleWatcher } from '/watcher.js'
const state = (s) => { document.body.dataset.state = s; window.states.push(s) }
window.states = []
const login = await fetch('/login', { method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ user: 'u-nurse', password: ${JSON.stringify(PASSWORD)} }) })
if (!login.ok) state('login-failed')
const initial = await (await fetch('/session/status')).json()
createIdleWatcher({
  target: document,
  initial,
  keepAlive: async () => {
    const token = /(?:^|; )__Host-sg-csrf=([^;]*)/.exec(document.cookie)?.[1] ?? ''
    const r = await fetch('/session/keep-alive', { method: 'POST', headers: { 'x-csrf-token': token } })
    return r.ok ? r.json() : null
  },
  onWarning: (_ms, deadline) => state('warning:' + deadline),
  onActive: () => state('active'),
  onSignOut: (reason) => state('signed-out:' + reason),
  warnBeforeMs: 1500,
  keepAliveIntervalMs: 200,
})
state('active')
</script>`

let app: TestApp
let browser: Browser

beforeAll(async () => {
  const watcher = watcherModule()
  app = await startApp({
    realClock: true,
    idleTimeoutMs: 3000,
    absoluteTimeoutMs: 120_000,
    extra: (a) => {
      a.get('/', (_req, res) => {
        res.set('content-security-policy', "default-src 'self'; script-src 'self' 'unsafe-inline'")
        res.type('html').send(PAGE)
      })
      a.get('/watcher.js', (_req, res) => {
        res.type('text/javascript').send(watcher)
      })
      a.get('/core.js', (_req, res) => {
        res.type('text/javascript').send('export const systemClock = { now: () => Date.now() }')
      })
    },
  })
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
    ],
  })
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await app?.close()
})

describe('idle watcher in headless Chromium against @safeguards/express', () => {
  it('signs in with __Host- cookies, warns before the idle deadline, signs out at it; the server agrees', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(`${app.base}/`)
    await page.waitForFunction(() => document.body.dataset.state === 'active', undefined, { timeout: 10_000 })
    const cookies = await context.cookies()
    expect(cookies.map((c) => c.name).sort()).toEqual(['__Host-sg-csrf', '__Host-sg-session'])
    expect(cookies.find((c) => c.name === '__Host-sg-session')).toMatchObject({
      httpOnly: true,
      secure: true,
      sameSite: 'Lax',
      path: '/',
    })
    await page.waitForFunction(() => document.body.dataset.state === 'warning:idle', undefined, {
      timeout: 10_000,
    })
    await page.waitForFunction(() => document.body.dataset.state === 'signed-out:idle', undefined, {
      timeout: 10_000,
    })
    const states = await page.evaluate(() => (window as unknown as { states: string[] }).states)
    expect(states).toEqual(['active', 'warning:idle', 'signed-out:idle'])
    const after = await page.evaluate(async () => {
      const r = await fetch('/session/status')
      return [r.status, ((await r.json()) as { reason: string }).reason]
    })
    expect(after).toEqual([401, 'session_idle'])
    await context.close()
  }, 30_000)

  it('user activity during the warning keeps the session alive through the keep-alive', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(`${app.base}/`)
    await page.waitForFunction(() => document.body.dataset.state === 'warning:idle', undefined, {
      timeout: 10_000,
    })
    await page.keyboard.press('Shift')
    await page.waitForFunction(() => document.body.dataset.state === 'active', undefined, { timeout: 10_000 })
    const status = await page.evaluate(async () => (await fetch('/session/status')).status)
    expect(status).toBe(200)
    await context.close()
  }, 30_000)
})
