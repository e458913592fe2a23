/**
 * QR codes for enrollment, encoded with `qr` (paulmillr/qr: zero dependencies, maintained, tested
 * against other encoders and decoders). Both images are drawn here from its module matrix: the
 * SVG with an opaque background (`qr`'s own SVG is transparent), the PNG as 1-bit greyscale
 * (`qr` writes GIF, not PNG).
 *
 * @module
 */
import { assertInteger, assertString, bytesToBase64 } from '@safeguards/core'
import encodeQR from 'qr'
import { checkOptions } from './internal/options.js'
import { encodeMonochromePng } from './internal/png.js'

/** Options of {@link qrPngDataUrl}. */
export interface QrPngOptions {
  /** Pixels per module (default 6). */
  scale?: number
  /** Quiet-zone width in modules, 1 to 16 (default 4, the minimum ISO/IEC 18004 asks for). */
  border?: number
}

const MAX_TEXT = 2048

/** ISO/IEC 18004 §9.1: the quiet zone is at least 4 modules wide, light, on every side. */
const QUIET_ZONE = 4

/**
 * Renders `text` (an `otpauth://` URI) as an SVG QR code, error correction level M.
 *
 * The image is self-contained for any page: an opaque white background covers the whole symbol
 * plus the 4-module quiet zone ISO/IEC 18004 requires, so it scans on a dark page (dark mode) too,
 * and the dark modules are explicitly black. One module is one user unit (`viewBox`); size it
 * with CSS (`width: 200px`) and keep `shape-rendering="crispEdges"`.
 *
 * HIPAA: 164.312(d) person or entity authentication (enrollment of the second factor).
 *
 * @throws {TypeError} when `text` is not a string; {RangeError} when it is over 2048 characters.
 * @example
 * ```ts
 * res.type('image/svg+xml').send(qrSvg(uri))
 * ```
 */
export function qrSvg(text: string): string {
  assertString(text, 'text', MAX_TEXT)
  // `raw` includes the quiet zone as light modules.
  const matrix = encodeQR(text, 'raw', { ecc: 'medium', border: QUIET_ZONE })
  const size = matrix.length
  let d = ''
  for (let y = 0; y < size; y++) {
    const row = matrix[y] as readonly boolean[]
    for (let x = 0; x < size; ) {
      if (row[x] !== true) {
        x++
        continue
      }
      const start = x
      while (row[x] === true) x++
      d += `M${start} ${y}h${x - start}v1h${start - x}z`
    }
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size} ${size}" shape-rendering="crispEdges">` +
    `<rect width="${size}" height="${size}" fill="#ffffff"/><path fill="#000000" d="${d}"/></svg>`
  )
}

/**
 * Renders `text` as a PNG QR code and returns a `data:image/png;base64,…` URL for an `<img>`.
 *
 * HIPAA: 164.312(d) person or entity authentication.
 *
 * @throws {TypeError} when `text` is not a string; {RangeError} when it is over 2048 characters or
 *   `scale`/`border` are out of range.
 * @example
 * ```ts
 * html`<img alt="Scan with your authenticator app" src="${await qrPngDataUrl(uri)}">`
 * ```
 */
export async function qrPngDataUrl(text: string, options: QrPngOptions = {}): Promise<string> {
  assertString(text, 'text', MAX_TEXT)
  checkOptions(options, ['scale', 'border'] satisfies (keyof QrPngOptions)[])
  const scale = options.scale ?? 6
  const border = options.border ?? QUIET_ZONE
  assertInteger(scale, 'scale', 1, 32)
  assertInteger(border, 'border', 1, 16)
  // `raw` includes the quiet zone as light modules.
  const matrix = encodeQR(text, 'raw', { ecc: 'medium', border })
  return `data:image/png;base64,${bytesToBase64(await encodeMonochromePng(matrix, scale, 0))}`
}
