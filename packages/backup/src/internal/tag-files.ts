/**
 * Tag-file decoding and parsing: `bagit.txt` (RFC 8493 §2.1.1), `bag-info.txt` (§2.2.2) and the
 * character encodings named by `Tag-File-Character-Encoding`.
 *
 * @module
 */
import { utf8Decode } from '@safeguards/core'

/** A parsed bag declaration. */
export interface BagDeclaration {
  version: string
  major: number
  minor: number
  encoding: string
}

/** Decodes tag-file bytes in the declared encoding. Throws on malformed input. */
export function decodeTagFile(bytes: Uint8Array, encoding: string): string {
  const enc = encoding.trim().toLowerCase()
  if (enc === 'utf-8' || enc === 'utf8') {
    if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) throw new Error('BOM')
    return utf8Decode(bytes)
  }
  if (enc === 'iso-8859-1' || enc === 'latin1' || enc === 'iso8859-1') {
    let out = ''
    for (let i = 0; i < bytes.length; i++) out += String.fromCharCode(bytes[i] as number)
    return out
  }
  if (enc === 'utf-16' || enc === 'utf-16be' || enc === 'utf-16le') {
    let label = enc === 'utf-16le' ? 'utf-16le' : 'utf-16be'
    let body = bytes
    if (bytes[0] === 0xfe && bytes[1] === 0xff) {
      label = 'utf-16be'
      body = bytes.subarray(2)
    } else if (bytes[0] === 0xff && bytes[1] === 0xfe) {
      label = 'utf-16le'
      body = bytes.subarray(2)
    }
    return new TextDecoder(label, { fatal: true, ignoreBOM: true }).decode(body)
  }
  throw new Error('unsupported encoding')
}

/** Splits text into lines on CRLF, LF or CR (RFC 8493 §2.1). A final line break is optional. */
export function splitLines(text: string): string[] {
  const lines = text.split(/\r\n|\n|\r/)
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
  return lines
}

/**
 * Parses `bagit.txt` strictly: exactly the two declaration lines, `Name: value` with one space,
 * no BOM, a `M.N` version.
 */
export function parseBagDeclaration(bytes: Uint8Array): BagDeclaration | null {
  let text: string
  try {
    text = decodeTagFile(bytes, 'UTF-8')
  } catch {
    return null
  }
  const lines = splitLines(text)
  if (lines.length !== 2) return null
  const v = /^BagIt-Version: (\d+)\.(\d+)$/.exec(lines[0] as string)
  const e = /^Tag-File-Character-Encoding: (\S(?:.*\S)?)$/.exec(lines[1] as string)
  if (!v || !e) return null
  return {
    version: `${v[1]}.${v[2]}`,
    major: Number(v[1]),
    minor: Number(v[2]),
    encoding: e[1] as string,
  }
}

/** One `bag-info.txt` element, in file order (labels may repeat). */
export interface BagInfoEntry {
  label: string
  value: string
}

/**
 * Parses `bag-info.txt`: `Label: value` lines, continuation lines start with whitespace. Labels
 * are compared case-insensitively by the helpers below; whitespace around the `:` is tolerated.
 * Returns null when a line is neither an element nor a continuation.
 */
export function parseBagInfo(text: string): BagInfoEntry[] | null {
  const out: BagInfoEntry[] = []
  for (const line of splitLines(text)) {
    if (line.trim() === '') continue
    if (/^[ \t]/.test(line)) {
      const last = out[out.length - 1]
      if (!last) return null
      last.value += ` ${line.trim()}`
      continue
    }
    const colon = line.indexOf(':')
    if (colon <= 0) return null
    const label = line.slice(0, colon).trim()
    if (label === '') return null
    out.push({ label, value: line.slice(colon + 1).trim() })
  }
  return out
}

/** The first value of `label` (case-insensitive), or undefined. */
export function bagInfoValue(entries: readonly BagInfoEntry[], label: string): string | undefined {
  const l = label.toLowerCase()
  return entries.find((e) => e.label.toLowerCase() === l)?.value
}

/** Formats `bag-info.txt` (UTF-8, LF line ends). Values must be single-line. */
export function formatBagInfo(entries: readonly BagInfoEntry[]): string {
  return entries.map((e) => `${e.label}: ${e.value.replace(/[\r\n]+/g, ' ')}\n`).join('')
}

/** Parses `Payload-Oxum` (`octets.count`), with sizes as bigint (above 2^53 is fine). */
export function parseOxum(value: string): { bytes: bigint; files: bigint } | null {
  const m = /^(\d{1,30})\.(\d{1,20})$/.exec(value.trim())
  if (!m) return null
  return { bytes: BigInt(m[1] as string), files: BigInt(m[2] as string) }
}
