import { inflateSync } from 'node:zlib'
import { base64ToBytes, utf8Encode } from '@safeguards/core'
import { DOMParser } from '@xmldom/xmldom'
import fc from 'fast-check'
import jsqrModule from 'jsqr'
import decodeQR from 'qr/decode.js'
import { describe, expect, it } from 'vitest'
import { qrPngDataUrl, qrSvg, secretToBase32, type TotpAlgorithm, totpUri } from '../src/index.js'
import { crc32 } from '../src/internal/png.js'

/** A small PNG reader for what our encoder writes (1-bit greyscale, filter 0): chunks, CRCs, pixels. */
function readPng(png: Uint8Array): { width: number; height: number; rgba: Uint8Array } {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength)
  let o = 8
  let width = 0
  let height = 0
  const idat: Uint8Array[] = []
  const types: string[] = []
  while (o < png.length) {
    const len = view.getUint32(o)
    const type = String.fromCharCode(...png.subarray(o + 4, o + 8))
    const data = png.subarray(o + 8, o + 8 + len)
    expect(view.getUint32(o + 8 + len)).toBe(crc32(png.subarray(o + 4, o + 8 + len)))
    types.push(type)
    if (type === 'IHDR') {
      width = view.getUint32(o + 8)
      height = view.getUint32(o + 12)
      expect([data[8], data[9], data[10], data[11], data[12]]).toEqual([1, 0, 0, 0, 0])
    }
    if (type === 'IDAT') idat.push(data)
    o += 12 + len
  }
  expect(types).toEqual(['IHDR', 'IDAT', 'IEND'])
  const raw = new Uint8Array(inflateSync(Buffer.concat(idat)))
  const rowBytes = Math.ceil(width / 8)
  const rgba = new Uint8Array(width * height * 4)
  for (let y = 0; y < height; y++) {
    expect(raw[y * (rowBytes + 1)]).toBe(0)
    for (let x = 0; x < width; x++) {
      const bit = (raw[y * (rowBytes + 1) + 1 + (x >> 3)]! >> (7 - (x & 7))) & 1
      rgba.fill(bit ? 255 : 0, (y * width + x) * 4, (y * width + x) * 4 + 3)
      rgba[(y * width + x) * 4 + 3] = 255
    }
  }
  return { width, height, rgba }
}

/**
 * A parser written from the Key Uri Format (google/google-authenticator wiki): `otpauth://TYPE/LABEL?PARAMS`,
 * LABEL = issuer ":" account, every component percent-encoded per RFC 3986 (here: strictly, so only
 * unreserved characters and %XX appear raw).
 */
function parseKeyUri(uri: string): {
  type: string
  issuerPrefix: string
  account: string
  params: Record<string, string>
} {
  const m = /^otpauth:\/\/(totp|hotp)\/([^?#]*)\?([^#]*)$/.exec(uri)
  if (m === null) throw new Error(`not a key URI: ${uri}`)
  const strict = /^(?:[A-Za-z0-9\-._~]|%[0-9A-F]{2})+$/
  const label = (m[2] as string).split(':')
  expect(label).toHaveLength(2)
  for (const part of label) expect(part).toMatch(strict)
  const params: Record<string, string> = {}
  for (const pair of (m[3] as string).split('&')) {
    const [k, v, ...rest] = pair.split('=')
    expect(rest).toEqual([])
    expect(k).toMatch(/^[a-z]+$/)
    expect(v).toMatch(strict)
    expect(Object.hasOwn(params, k as string)).toBe(false)
    params[k as string] = decodeURIComponent(v as string)
  }
  return {
    type: m[1] as string,
    issuerPrefix: decodeURIComponent(label[0] as string),
    account: decodeURIComponent(label[1] as string),
    params,
  }
}

// jsqr is CommonJS with an `__esModule` default: Vitest hands over the function, Node's own ESM
// loader (and so TypeScript under NodeNext) the exports object.
const jsQR = (typeof jsqrModule === 'function' ? jsqrModule : jsqrModule.default) as typeof jsqrModule.default

interface Shape {
  kind: 'rect' | 'path'
  x: number
  y: number
  w: number
  h: number
  fill: string
}

/**
 * Parses our SVG with a real XML parser into filled axis-aligned rectangles, in paint order. Paths
 * may use M, H, V, h, v, Z (absolute or relative); each subpath must close on an axis-aligned
 * rectangle (what a QR code is made of). Anything else (opacity, strokes, styles, transforms,
 * other elements) fails the test rather than being ignored.
 */
function parseSvg(text: string): { size: number; shapes: Shape[] } {
  const errors: string[] = []
  const doc = new DOMParser({ onError: (level, msg) => errors.push(`${level}: ${msg}`) }).parseFromString(
    text,
    'image/svg+xml',
  )
  expect(errors).toEqual([])
  const root = doc.documentElement as unknown as Element
  expect(root.namespaceURI).toBe('http://www.w3.org/2000/svg')
  expect(root.localName).toBe('svg')
  const vb = (root.getAttribute('viewBox') ?? '').split(/\s+/).map(Number)
  expect(vb.slice(0, 2)).toEqual([0, 0])
  expect(vb[2]).toBe(vb[3])
  const allowed = new Set(['fill', 'd', 'x', 'y', 'width', 'height'])
  for (const a of Array.from(root.attributes))
    expect(['xmlns', 'viewBox', 'shape-rendering']).toContain(a.name)
  const shapes: Shape[] = []
  for (const el of Array.from(root.childNodes).filter((n) => n.nodeType === 1) as unknown as Element[]) {
    for (const a of Array.from(el.attributes)) expect(allowed, `${el.localName}@${a.name}`).toContain(a.name)
    const fill = el.getAttribute('fill') ?? '#000000'
    if (el.localName === 'rect') {
      const num = (n: string) => Number(el.getAttribute(n) ?? '0')
      shapes.push({ kind: 'rect', x: num('x'), y: num('y'), w: num('width'), h: num('height'), fill })
      continue
    }
    expect(el.localName).toBe('path')
    const tokens = (el.getAttribute('d') ?? '').match(/[MHVZmhvz]|-?\d+(?:\.\d+)?/g) ?? []
    let i = 0
    let cx = 0
    let cy = 0
    let pts: [number, number][] = []
    const num = (): number => Number(tokens[i++])
    const close = () => {
      const xs = pts.map((p) => p[0])
      const ys = pts.map((p) => p[1])
      const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)]
      // axis-aligned rectangle: every vertex is a corner of the bounding box
      for (const [x, y] of pts) expect((x === x0 || x === x1) && (y === y0 || y === y1)).toBe(true)
      shapes.push({ kind: 'path', x: x0, y: y0, w: x1 - x0, h: y1 - y0, fill })
      pts = []
    }
    while (i < tokens.length) {
      const c = tokens[i++] as string
      if (c === 'M' || c === 'm') {
        if (pts.length > 0) close()
        const [dx, dy] = [num(), num()]
        ;[cx, cy] = c === 'M' ? [dx, dy] : [cx + dx, cy + dy]
      } else if (c === 'H') cx = num()
      else if (c === 'h') cx += num()
      else if (c === 'V') cy = num()
      else if (c === 'v') cy += num()
      else if (c === 'Z' || c === 'z') {
        close()
        continue
      } else throw new Error(`unexpected path token ${c}`)
      pts.push([cx, cy])
    }
    if (pts.length > 0) close()
  }
  return { size: vb[2] as number, shapes }
}

function rgb(fill: string): [number, number, number] {
  const named: Record<string, string> = { white: '#ffffff', black: '#000000' }
  const hex = (named[fill] ?? fill).replace(/^#([0-9a-f])([0-9a-f])([0-9a-f])$/i, '#$1$1$2$2$3$3')
  expect(hex).toMatch(/^#[0-9a-f]{6}$/i)
  return [1, 3, 5].map((o) => Number.parseInt(hex.slice(o, o + 2), 16)) as [number, number, number]
}

const luminance = (fill: string): number => {
  const [r, g, b] = rgb(fill)
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255
}

/** Paints the shapes over a page of colour `page`, `scale` pixels per unit (sampling pixel centres). */
function rasterise(
  svg: { size: number; shapes: Shape[] },
  scale: number,
  page: readonly [number, number, number],
): { width: number; height: number; rgba: Uint8Array } {
  const width = svg.size * scale
  const rgba = new Uint8Array(width * width * 4)
  for (let p = 0; p < width * width; p++) rgba.set([...page, 255], p * 4)
  for (const s of svg.shapes) {
    const colour = [...rgb(s.fill), 255]
    for (let y = Math.ceil(s.y * scale - 0.5); y + 0.5 < (s.y + s.h) * scale; y++)
      for (let x = Math.ceil(s.x * scale - 0.5); x + 0.5 < (s.x + s.w) * scale; x++)
        if (x >= 0 && y >= 0 && x < width && y < width) rgba.set(colour, (y * width + x) * 4)
  }
  return { width, height: width, rgba }
}

const uri = totpUri({
  secret: utf8Encode('12345678901234567890'),
  issuer: 'Acme Clinic',
  account: 'jane.doe@acme.org',
})

describe('QR codes', () => {
  it('the PNG data URL decodes back to the otpauth URI', async () => {
    const url = await qrPngDataUrl(uri)
    expect(url.startsWith('data:image/png;base64,')).toBe(true)
    const png = readPng(base64ToBytes(url.slice('data:image/png;base64,'.length)))
    expect(png.width).toBe(png.height)
    expect(decodeQR({ width: png.width, height: png.height, data: png.rgba })).toBe(uri)
  })

  it('honours scale and border, and validates them', async () => {
    const small = readPng(base64ToBytes((await qrPngDataUrl(uri, { scale: 3, border: 4 })).split(',')[1]!))
    const big = readPng(base64ToBytes((await qrPngDataUrl(uri, { scale: 6, border: 4 })).split(',')[1]!))
    expect(big.width).toBe(small.width * 2)
    await expect(qrPngDataUrl(uri, { scale: 0 })).rejects.toBeInstanceOf(RangeError)
    await expect(qrPngDataUrl(uri, { border: 0 })).rejects.toBeInstanceOf(RangeError)
    await expect(qrPngDataUrl(uri, { border: 99 })).rejects.toBeInstanceOf(RangeError)
    await expect(qrPngDataUrl('x'.repeat(3000))).rejects.toBeInstanceOf(RangeError)
  })

  it('the SVG has an opaque light background and a 4-module quiet zone, and scans on a dark page', () => {
    // ISO/IEC 18004 §9.1 (quiet zone ≥ 4 modules, light) and a light background of its own: with a
    // transparent one, dark modules vanish on a dark page (dark mode) and nothing scans.
    const svg = parseSvg(qrSvg(uri))
    const size = svg.size
    // A version-v symbol is 17 + 4v modules wide; the image adds 4 on each side.
    expect((size - 8 - 17) % 4).toBe(0)
    const bg = svg.shapes[0]
    expect(bg, 'a background rectangle first').toMatchObject({ kind: 'rect', x: 0, y: 0, w: size, h: size })
    expect(luminance(bg!.fill)).toBeGreaterThan(0.9)
    for (const page of [
      [0, 0, 0],
      [18, 18, 18],
      [255, 255, 255],
      [128, 128, 128],
    ] as const) {
      const scale = 4
      const img = rasterise(svg, scale, page)
      // The quiet zone: 4 modules of light on every side; the symbol's first dark module at 4.
      const q = 4 * scale
      for (let y = 0; y < img.height; y++)
        for (let x = 0; x < img.width; x++) {
          const inside = x >= q && y >= q && x < img.width - q && y < img.height - q
          if (!inside) expect(img.rgba[(y * img.width + x) * 4], `quiet zone at ${x},${y}`).toBe(255)
        }
      expect(img.rgba[(q * img.width + q) * 4]).toBe(0) // finder pattern corner
      // Two independent decoders read the URI back.
      expect(
        jsQR(new Uint8ClampedArray(img.rgba), img.width, img.height, { inversionAttempts: 'dontInvert' })
          ?.data,
      ).toBe(uri)
      expect(decodeQR({ width: img.width, height: img.height, data: img.rgba })).toBe(uri)
    }
  })

  it('the SVG is a standalone image of the same symbol', () => {
    const svg = qrSvg(uri)
    expect(svg.startsWith('<svg')).toBe(true)
    expect(svg).toContain('viewBox')
    expect(svg.trim().endsWith('</svg>')).toBe(true)
    expect(qrSvg(uri)).toBe(svg)
    expect(() => qrSvg(42 as unknown as string)).toThrow(TypeError)
  })
})

describe('otpauth URI', () => {
  it('carries issuer, account, secret, algorithm, digits and period', () => {
    const u = new URL(
      totpUri({
        secret: utf8Encode('12345678901234567890'),
        issuer: 'Acme Clinic',
        account: 'jane@acme.org',
        algorithm: 'SHA256',
        digits: 8,
        period: 60,
      }),
    )
    expect(u.protocol).toBe('otpauth:')
    expect(u.host).toBe('totp')
    expect(decodeURIComponent(u.pathname)).toBe('/Acme Clinic:jane@acme.org')
    expect(Object.fromEntries(u.searchParams)).toEqual({
      secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ',
      issuer: 'Acme Clinic',
      algorithm: 'SHA256',
      digits: '8',
      period: '60',
    })
  })

  it('always writes algorithm, digits and period, defaults included (SHA1, 6, 30)', () => {
    // Some authenticator apps mishandle omitted parameters; the README promises all three.
    const u = new URL(totpUri({ secret: utf8Encode('12345678901234567890'), issuer: 'Acme', account: 'j' }))
    expect([...u.searchParams]).toEqual([
      ['secret', 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'],
      ['issuer', 'Acme'],
      ['algorithm', 'SHA1'],
      ['digits', '6'],
      ['period', '30'],
    ])
  })

  it('follows the Key Uri Format: issuer prefix equal to the issuer parameter, strict percent-encoding (property)', () => {
    // Printable ASCII (every reserved character) and any Unicode scalar value; fast-check's own
    // full-Unicode unit is much slower.
    const unit = fc.oneof(
      fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      fc
        .integer({ min: 0, max: 0x10ffff })
        .filter((c) => c < 0xd800 || c > 0xdfff)
        .map((c) => String.fromCodePoint(c)),
    )
    const label = fc.string({ unit, minLength: 1, maxLength: 40 }).filter((x) => !x.includes(':'))
    fc.assert(
      fc.property(
        label,
        label,
        fc.uint8Array({ minLength: 16, maxLength: 64 }),
        fc.constantFrom('SHA1', 'SHA256', 'SHA512') as fc.Arbitrary<TotpAlgorithm>,
        fc.integer({ min: 6, max: 8 }),
        fc.integer({ min: 15, max: 120 }),
        (issuer, account, secret, algorithm, digits, period) => {
          const uri = totpUri({ secret, issuer, account, algorithm, digits, period })
          expect(parseKeyUri(uri)).toEqual({
            type: 'totp',
            issuerPrefix: issuer,
            account,
            params: {
              secret: secretToBase32(secret),
              issuer,
              algorithm,
              digits: String(digits),
              period: String(period),
            },
          })
        },
      ),
      { numRuns: 200 },
    )
  })

  it('percent-encodes reserved and non-ASCII characters in the label and the issuer parameter', () => {
    const uri = totpUri({
      secret: utf8Encode('12345678901234567890'),
      issuer: "Ärzte & Co (Zürich) #1 50%/100% it's",
      account: 'jane+doe@acme.org?x=1',
    })
    expect(uri).toBe(
      'otpauth://totp/%C3%84rzte%20%26%20Co%20%28Z%C3%BCrich%29%20%231%2050%25%2F100%25%20it%27s:jane%2Bdoe%40acme.org%3Fx%3D1' +
        '?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ' +
        '&issuer=%C3%84rzte%20%26%20Co%20%28Z%C3%BCrich%29%20%231%2050%25%2F100%25%20it%27s&algorithm=SHA1&digits=6&period=30',
    )
    // Text that has no UTF-8 form cannot be percent-encoded: refused like other bad labels.
    const secret = new Uint8Array(20)
    expect(() => totpUri({ secret, issuer: 'A\ud800', account: 'x' })).toThrow(RangeError)
    expect(() => totpUri({ secret, issuer: 'A', account: '\udc00x' })).toThrow(RangeError)
  })

  it('refuses colons and empty labels', () => {
    const secret = new Uint8Array(20)
    expect(() => totpUri({ secret, issuer: 'A:B', account: 'x' })).toThrow(RangeError)
    expect(() => totpUri({ secret, issuer: 'A', account: '' })).toThrow(RangeError)
    expect(() => totpUri({ secret, issuer: 'A', account: 'x'.repeat(300) })).toThrow(RangeError)
    expect(() => totpUri({ secret: new Uint8Array(15), issuer: 'A', account: 'x' })).toThrow(RangeError)
    expect(() => totpUri({ secret: new Uint8Array(129), issuer: 'A', account: 'x' })).toThrow(RangeError)
  })
})
