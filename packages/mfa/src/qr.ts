/**
 * QR codes for enrollment, drawn with `qr` (paulmillr/qr: zero dependencies, maintained, tested
 * against other encoders and decoders). SVG comes from `qr` itself; the PNG is encoded here from
 * the same module matrix (`qr` writes GIF, not PNG).
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

/**
 * Renders `text` (an `otpauth://` URI) as an SVG QR code, error correction level M.
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
  return encodeQR(text, 'svg', { ecc: 'medium', border: 4 })
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
  const border = options.border ?? 4
  assertInteger(scale, 'scale', 1, 32)
  assertInteger(border, 'border', 1, 16)
  // `raw` includes the quiet zone as light modules.
  const matrix = encodeQR(text, 'raw', { ecc: 'medium', border })
  return `data:image/png;base64,${bytesToBase64(await encodeMonochromePng(matrix, scale, 0))}`
}
