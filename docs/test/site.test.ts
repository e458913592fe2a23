/**
 * The docs site in a real browser: build output served on localhost, driven through Debian's
 * Chromium with playwright-core. Asserts the home page renders, the HIPAA matrix lists every
 * 164.312 specification with working API links, local search finds "automatic logoff", and no
 * request leaves localhost. Keeps a screenshot of the matrix page in .reports/.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize, resolve } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const docs = resolve(import.meta.dirname, '..')
const dist = resolve(docs, '.vitepress/dist')
const root = resolve(docs, '..')
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ci = process.env.CI === 'true'

const missing = !existsSync(join(dist, 'index.html'))
  ? 'the site is not built (run `pnpm docs:build`)'
  : !existsSync(CHROMIUM)
    ? `Chromium is not installed at ${CHROMIUM}`
    : undefined
if (missing && !ci) console.warn(`docs browser test skipped: ${missing}`)

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
  '.png': 'image/png',
}

describe.skipIf(missing !== undefined && !ci)('docs site in Chromium', () => {
  let server: Server
  let base: string
  let browser: Browser
  let page: Page
  const offsite: string[] = []

  beforeAll(async () => {
    if (missing) throw new Error(`cannot run the docs browser test: ${missing}`)
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost')
      let file = normalize(join(dist, decodeURIComponent(url.pathname)))
      if (!file.startsWith(dist)) {
        res.writeHead(403).end()
        return
      }
      if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html')
      if (!existsSync(file) && existsSync(`${file}.html`)) file = `${file}.html`
      if (!existsSync(file)) {
        res.writeHead(404, { 'content-type': 'text/html' }).end(readFileSync(join(dist, '404.html')))
        return
      }
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' })
      res.end(readFileSync(file))
    })
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    })
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } })
    await page.route('**/*', async (route) => {
      const host = new URL(route.request().url()).hostname
      if (host === '127.0.0.1' || host === 'localhost') await route.continue()
      else {
        offsite.push(route.request().url())
        await route.abort()
      }
    })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()))
  })

  it('renders the home page', async () => {
    await page.goto(`${base}/`)
    await expect(page.title()).resolves.toContain('Safeguards')
    expect(await page.locator('.VPHero .text').textContent()).toContain('HIPAA-grade safeguard primitives')
  })

  it('the matrix lists every 164.312 specification, and its API links work', async () => {
    await page.goto(`${base}/compliance/hipaa-matrix.html`)
    const text = await page.locator('main').textContent()
    for (const id of [
      '164.312(a)(1)',
      '164.312(a)(2)(i)',
      '164.312(a)(2)(ii)',
      '164.312(a)(2)(iii)',
      '164.312(a)(2)(iv)',
      '164.312(b)',
      '164.312(c)(1)',
      '164.312(c)(2)',
      '164.312(d)',
      '164.312(e)(1)',
      '164.312(e)(2)(i)',
      '164.312(e)(2)(ii)',
    ]) {
      expect(text, id).toContain(id)
    }
    const links = await page
      .locator('main table a[href*="/api/"]')
      .evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href))
    expect(links.length).toBeGreaterThan(0)
    for (const href of new Set(links)) {
      const res = await page.request.get(href)
      expect(res.status(), href).toBe(200)
      expect(await res.text(), href).not.toContain('PAGE NOT FOUND')
    }
    mkdirSync(resolve(root, '.reports'), { recursive: true })
    await page.screenshot({ path: resolve(root, '.reports/docs-hipaa-matrix.png'), fullPage: true })
  })

  it('local search finds "automatic logoff"', async () => {
    await page.goto(`${base}/`)
    await page.locator('.VPNavBarSearch button').click()
    await page.locator('.VPLocalSearchBox input').fill('automatic logoff')
    const results = page.locator('.VPLocalSearchBox .results li')
    await results.first().waitFor({ timeout: 10_000 })
    expect(await results.count()).toBeGreaterThan(0)
    const hrefs = await page
      .locator('.VPLocalSearchBox .results li a')
      .evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).getAttribute('href') ?? ''))
    // Hits are the automatic-logoff material: the session package's API pages or the matrix row.
    expect(
      hrefs.some((h) => h.includes('/@safeguards/session') || h.includes('/compliance/hipaa-matrix')),
    ).toBe(true)
    // Negative control: a term that appears nowhere finds nothing.
    await page.locator('.VPLocalSearchBox input').fill('qzxjvwkplm')
    await page.locator('.VPLocalSearchBox .no-results').waitFor({ timeout: 10_000 })
  })

  it('a package page renders its sections in order, and the diagrams load', async () => {
    await page.goto(`${base}/guide/packages/envelope.html`)
    const headings = await page.locator('main h2').allTextContents()
    const order = ['Example', 'Purpose', 'Usage', 'Notes', 'Algorithm details'].map((h) =>
      headings.findIndex((t) => t.includes(h)),
    )
    expect(order.every((i) => i >= 0)).toBe(true)
    expect([...order].sort((a, b) => a - b)).toEqual(order)
    const diagram = page.locator('main img[src*="/diagrams/envelope-format.svg"]')
    await diagram.waitFor()
    expect(await diagram.evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBeGreaterThan(0)
  })

  it('no request left localhost', () => {
    expect(offsite).toEqual([])
  })
})
