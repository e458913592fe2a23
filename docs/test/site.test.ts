/**
 * The docs site in a real browser: build output served on localhost, driven through Debian's
 * Chromium with playwright-core. Asserts the home page renders with its favicon, the HIPAA matrix
 * lists every 164.312 specification with working API links, no table or figure on any hand-written
 * page is wider than its column, every diagram's text fits inside its boxes (measured with the
 * fonts this machine has, no emoji font among them), no page relies on an emoji glyph, local
 * search finds "automatic logoff", the coverage map's filters work and every link from it
 * resolves, and no request leaves localhost. Keeps screenshots of the matrix page and the coverage
 * map in .reports/.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize, relative, resolve } from 'node:path'
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

/** Every built page, as a site path (`/guide/getting-started.html`). */
function builtPages(dir = dist): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name)
    if (e.isDirectory()) return e.name === 'assets' ? [] : builtPages(p)
    return e.name.endsWith('.html') && e.name !== '404.html' ? [`/${relative(dist, p)}`] : []
  })
}

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

  it('renders the home page, with an SVG favicon', async () => {
    await page.goto(`${base}/`)
    await expect(page.title()).resolves.toContain('Safeguards')
    expect(await page.locator('.VPHero .text').textContent()).toContain('HIPAA-grade safeguard primitives')
    const icon = await page.locator('head link[rel="icon"]').getAttribute('href')
    expect(icon).toBe('/favicon.svg')
    const res = await page.request.get(`${base}${icon}`)
    expect(res.status()).toBe(200)
    expect(res.headers()['content-type']).toBe('image/svg+xml')
    expect(await res.text()).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
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
    // Compact rows: the long columns live in each citation's section, linked from the citation.
    const heights = await page
      .locator('main .matrix tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getBoundingClientRect().height))
    expect(heights.length).toBeGreaterThan(50)
    expect(Math.max(...heights)).toBeLessThan(160)
    const first = page.locator('main .matrix tbody tr td:first-child a').first()
    const target = (await first.getAttribute('href')) ?? ''
    expect(target).toMatch(/^#details-/)
    expect(await page.locator(`main [id="${target.slice(1)}"]`).count()).toBe(1)
    // Coverage is a CSS badge, not an emoji.
    expect(await page.locator('main .matrix .VPBadge').count()).toBe(heights.length)
    mkdirSync(resolve(root, '.reports'), { recursive: true })
    await page.screenshot({ path: resolve(root, '.reports/docs-hipaa-matrix.png'), fullPage: true })
  })

  it('the coverage map: 39 specifications coloured by coverage, filters that work, links that resolve', async () => {
    // networkidle: the page's scripts have run, so the filter buttons are live.
    await page.goto(`${base}/compliance/coverage-map.html`, { waitUntil: 'networkidle' })
    const tiles = page.locator('main .cmap a.cmap-tile')
    expect(await tiles.count()).toBe(39)
    const colour = await tiles.evaluateAll((ts) =>
      Object.fromEntries(ts.map((t) => [t.getAttribute('data-status'), getComputedStyle(t).backgroundColor])),
    )
    expect(Object.keys(colour).sort()).toEqual(['app-team', 'implements', 'not-applicable', 'supports'])
    expect(new Set([colour.implements, colour.supports, colour['app-team']]).size).toBe(3)
    // Colour is not the only cue: every tile names its status in words.
    const words = await tiles.evaluateAll((ts) =>
      ts.map((t) => [t.getAttribute('data-status'), t.querySelector('em')?.textContent ?? '']),
    )
    for (const [s, w] of words) expect(w, `${s}`).toContain((s ?? '').replace('-', ' '))
    const shown = () =>
      tiles.evaluateAll((ts) => ts.map((t) => [t.getAttribute('data-status'), t.getAttribute('data-family')]))
    const button = (filter: string, value: string) =>
      page.locator(`main button[data-filter="${filter}"][data-value="${value}"]`)
    const pressed = (filter: string, value: string) => button(filter, value).getAttribute('aria-pressed')
    expect(await pressed('status', 'all')).toBe('true')
    expect(await pressed('family', 'all')).toBe('true')
    await button('status', 'supports').click()
    await button('family', 'technical').click()
    await expect.poll(() => pressed('status', 'supports')).toBe('true')
    expect(await pressed('status', 'all')).toBe('false')
    expect(await pressed('family', 'technical')).toBe('true')
    const filtered = await shown()
    expect(filtered.length).toBeGreaterThan(0)
    expect(filtered.length).toBeLessThan(39)
    expect(filtered.every(([s, f]) => s === 'supports' && f === 'technical')).toBe(true)
    expect(await page.locator('main [data-count]').textContent()).toBe(`${filtered.length} of 39`)
    // From the keyboard: focus a button and press Enter or Space.
    await button('status', 'all').focus()
    await page.keyboard.press('Enter')
    await button('family', 'physical').focus()
    await page.keyboard.press('Space')
    await expect.poll(() => pressed('family', 'physical')).toBe('true')
    expect(await pressed('status', 'all')).toBe('true')
    expect((await shown()).map(([, f]) => f)).toEqual(Array(8).fill('physical'))
    expect(await page.locator('main [data-count]').textContent()).toBe('8 of 39')
    await button('family', 'all').click()
    await expect.poll(() => tiles.count()).toBe(39)
    const overflow = await page.evaluate(() => [
      ...(document.documentElement.scrollWidth > document.documentElement.clientWidth + 1
        ? ['the page']
        : []),
      ...Array.from(document.querySelectorAll('.cmap-tile'))
        .filter((t) => t.scrollWidth > t.clientWidth + 1)
        .map((t) => t.textContent ?? ''),
    ])
    expect(overflow).toEqual([])
    mkdirSync(resolve(root, '.reports'), { recursive: true })
    await page.screenshot({ path: resolve(root, '.reports/docs-coverage-map.png'), fullPage: true })
    console.log(`coverage map screenshot: ${resolve(root, '.reports/docs-coverage-map.png')}`)

    // Every link on the map, on each specification page and on the sample report resolves,
    // fragments included.
    const linksOf = async (path: string): Promise<string[]> => {
      await page.goto(`${base}${path}`)
      return page.locator('main a[href]').evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href))
    }
    const specPages = (await linksOf('/compliance/coverage-map.html')).filter((h) =>
      h.includes('/compliance/specs/'),
    )
    expect(new Set(specPages).size).toBe(39)
    const links = new Set<string>(specPages)
    for (const spec of specPages) for (const h of await linksOf(new URL(spec).pathname)) links.add(h)
    for (const h of await linksOf('/compliance/sample-evidence.html')) links.add(h)
    const fragments = new Map<string, Set<string>>()
    for (const href of links) {
      const u = new URL(href)
      expect(u.host, href).toBe(new URL(base).host)
      const res = await page.request.get(`${u.origin}${u.pathname}`)
      expect(res.status(), href).toBe(200)
      expect(await res.text(), href).not.toContain('PAGE NOT FOUND')
      if (u.hash)
        fragments.set(
          u.pathname,
          (fragments.get(u.pathname) ?? new Set()).add(decodeURIComponent(u.hash.slice(1))),
        )
    }
    for (const [path, ids] of fragments) {
      await page.goto(`${base}${path}`)
      for (const id of ids) expect(await page.locator(`[id="${id}"]`).count(), `${path}#${id}`).toBe(1)
    }
    // The sample report: judged, with the failing control, and its offline HTML page with a chart.
    await page.goto(`${base}/compliance/sample-evidence.html`)
    const sample = (await page.locator('main').textContent()) ?? ''
    expect(sample).toContain('not met')
    expect(sample).toContain('session.idleTimeout[nurse]')
    const html = await page.request.get(`${base}/evidence/sample-report.html`)
    expect(html.status()).toBe(200)
    expect(await html.text()).toContain('<svg')
  }, 300_000)

  it('the coverage map, a specification page, the sample report and the matrix fit 1280 and 390 px', async () => {
    const narrow = await browser.newPage()
    try {
      for (const width of [1280, 390]) {
        await narrow.setViewportSize({ width, height: 900 })
        for (const path of [
          '/compliance/coverage-map.html',
          '/compliance/specs/164-312-a-2-iii.html',
          '/compliance/specs/164-308-a-1-ii-d.html',
          '/compliance/sample-evidence.html',
          '/compliance/hipaa-matrix.html',
        ]) {
          await narrow.goto(`${base}${path}`)
          const over = await narrow.evaluate(() => {
            const doc = document.documentElement
            const out: string[] = []
            if (doc.scrollWidth > doc.clientWidth + 1)
              out.push(`the page: ${doc.scrollWidth}px in ${doc.clientWidth}px`)
            const column = document.querySelector('.vp-doc')?.getBoundingClientRect()
            for (const el of Array.from(
              document.querySelectorAll('.vp-doc h1, .cmap-tile, .cmap-group button'),
            )) {
              const r = el.getBoundingClientRect()
              if (column && r.width > 0 && (r.left < column.left - 1 || r.right > column.right + 1))
                out.push(
                  `${el.tagName.toLowerCase()} "${(el.textContent ?? '').slice(0, 40)}" leaves the column`,
                )
            }
            return out
          })
          expect(over, `${path} at ${width}px`).toEqual([])
        }
      }
      await narrow.goto(`${base}/compliance/coverage-map.html`)
      const shot = resolve(root, '.reports/docs-coverage-map-390.png')
      mkdirSync(resolve(root, '.reports'), { recursive: true })
      await narrow.screenshot({ path: shot, fullPage: true })
      console.log(`coverage map screenshot at 390 px: ${shot}`)
    } finally {
      await narrow.close()
    }
  }, 120_000)

  it('no table or figure on a hand-written page is wider than its column', async () => {
    const pages = builtPages().filter((p) => !p.startsWith('/api/'))
    expect(pages.length).toBeGreaterThan(20)
    const overflowing: string[] = []
    for (const path of pages) {
      await page.goto(`${base}${path}`)
      const found = await page.evaluate(() => {
        const doc = document.querySelector('.vp-doc')
        if (!doc) return []
        const column = doc.getBoundingClientRect()
        const out: string[] = []
        for (const el of Array.from(doc.querySelectorAll('table, img, svg, figure, pre'))) {
          const r = el.getBoundingClientRect()
          if (r.width === 0) continue
          // A table is a scroll box in the default theme: its content must not need the scrollbar.
          const scrolls = el.tagName === 'TABLE' && el.scrollWidth > el.clientWidth + 1
          // Nor may a cell's content run past the cell (fixed layouts, nowrap cells).
          const cell = Array.from(el.querySelectorAll('td, th')).find(
            (c) => c.scrollWidth > c.clientWidth + 1,
          )
          if (cell)
            out.push(
              `a cell of a table is ${cell.scrollWidth}px wide in ${cell.clientWidth}px: ${cell.textContent}`,
            )
          if (scrolls || r.left < column.left - 1 || r.right > column.right + 1) {
            const label =
              el.tagName === 'IMG' ? (el as HTMLImageElement).src : (el.textContent ?? '').slice(0, 60)
            out.push(
              `${el.tagName.toLowerCase()} ${Math.round(Math.max(r.width, el.scrollWidth))}px in a ${Math.round(column.width)}px column: ${label}`,
            )
          }
        }
        return out
      })
      overflowing.push(...found.map((f) => `${path}: ${f}`))
    }
    expect(overflowing).toEqual([])
  }, 180_000)

  it("every diagram's text fits inside its box, and text between boxes touches none", async () => {
    const diagrams = readdirSync(join(dist, 'diagrams')).filter((f) => f.endsWith('.svg'))
    expect(diagrams.length).toBeGreaterThan(0)
    const problems: string[] = []
    for (const file of diagrams) {
      await page.goto(`${base}/diagrams/${file}`)
      const found = await page.evaluate(() => {
        const out: string[] = []
        const svg = document.documentElement as unknown as SVGSVGElement
        const view = svg.viewBox.baseVal
        const rects = Array.from(document.querySelectorAll('rect')).map((r) => r.getBBox())
        const PAD = 2 // the text's ink box must keep this far from the border
        const inside = (
          b: DOMRect,
          r: { x: number; y: number; width: number; height: number },
          pad: number,
        ) =>
          b.x >= r.x + pad &&
          b.y >= r.y + pad &&
          b.x + b.width <= r.x + r.width - pad &&
          b.y + b.height <= r.y + r.height - pad
        const touches = (a: DOMRect, b: DOMRect) =>
          a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height
        for (const t of Array.from(document.querySelectorAll('text'))) {
          const b = t.getBBox()
          const x = t.x.baseVal.numberOfItems > 0 ? t.x.baseVal.getItem(0).value : b.x
          const y = t.y.baseVal.numberOfItems > 0 ? t.y.baseVal.getItem(0).value : b.y
          // The box a text belongs to is the smallest rect containing its anchor point.
          const owner = rects
            .filter((r) => x >= r.x && x <= r.x + r.width && y >= r.y && y <= r.y + r.height)
            .sort((p, q) => p.width * p.height - q.width * q.height)[0]
          const span = `"${t.textContent}" (${b.x.toFixed(1)}–${(b.x + b.width).toFixed(1)})`
          if (owner !== undefined) {
            if (!inside(b, owner, PAD))
              out.push(`${span} leaves its box (${owner.x}–${owner.x + owner.width})`)
          } else {
            if (!inside(b, view, 0)) out.push(`${span} leaves the picture`)
            const hit = rects.find((r) => touches(b, r))
            if (hit) out.push(`${span} runs into the box at ${hit.x}–${hit.x + hit.width}`)
          }
        }
        return out
      })
      problems.push(...found.map((f) => `${file}: ${f}`))
    }
    expect(problems).toEqual([])
  })

  it('no page needs an emoji font: status marks are text or CSS badges', () => {
    const pages = builtPages()
    expect(pages.length).toBeGreaterThan(20)
    const emoji = /\p{Emoji_Presentation}|\u{FE0F}/gu
    const found: string[] = []
    for (const path of pages) {
      const html = readFileSync(join(dist, path), 'utf8')
      const text = html
        .replace(/<script[\s\S]*?<\/script>/g, '')
        .replace(/<style[\s\S]*?<\/style>/g, '')
        .replace(/<[^>]+>/g, ' ')
      for (const m of text.matchAll(emoji))
        found.push(
          `${path}: ${m[0]} in "…${text.slice(Math.max(0, (m.index ?? 0) - 30), (m.index ?? 0) + 10).replace(/\s+/g, ' ')}…"`,
        )
    }
    expect(found).toEqual([])
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
