/**
 * Manifest files (RFC 8493 §2.1.3 and §2.2.1): `checksum SP+ path` lines. In BagIt 1.0 the
 * path percent-encodes CR, LF and `%` (`%0D`, `%0A`, `%25`); earlier versions store names
 * literally.
 *
 * @module
 */
import { splitLines } from './tag-files.js'

/** One manifest line, as written (path not yet checked for safety). */
export interface ManifestLine {
  digest: string
  path: string
  /** 1-based line number. */
  line: number
  /** A leading `*` (md5sum binary mode) was stripped. */
  md5sumStyle: boolean
  /** A leading `./` was stripped. */
  dotSlash: boolean
}

/** Decodes the 1.0 percent-escapes (`%0D`, `%0A`, `%25`, any case); other `%` stay literal. */
export function decodePath(path: string): string {
  return path.replace(/%(0[dD]|0[aA]|25)/g, (m) =>
    m.toLowerCase() === '%0d' ? '\r' : m.toLowerCase() === '%0a' ? '\n' : '%',
  )
}

/** Encodes a path for a 1.0 manifest. */
export function encodePath(path: string): string {
  return path.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
}

/**
 * Parses manifest text. Returns the lines, or the 1-based number of the first malformed line.
 */
export function parseManifest(
  text: string,
  algorithm: string,
  percentDecode: boolean,
): { lines: ManifestLine[] } | { badLine: number } {
  const hexLength: Record<string, number> = {
    md5: 32,
    sha1: 40,
    sha224: 56,
    sha256: 64,
    sha384: 96,
    sha512: 128,
  }
  const expected = hexLength[algorithm]
  const out: ManifestLine[] = []
  const lines = splitLines(text)
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string
    const m = /^([0-9A-Fa-f]+)[ \t]+(.+)$/.exec(raw)
    if (!m || (expected !== undefined && (m[1] as string).length !== expected)) return { badLine: i + 1 }
    let path = m[2] as string
    let md5sumStyle = false
    let dotSlash = false
    if (path.startsWith('*') && !percentDecode) {
      path = path.slice(1)
      md5sumStyle = true
    }
    if (percentDecode) path = decodePath(path)
    if (path.startsWith('./')) {
      path = path.slice(2)
      dotSlash = true
    }
    out.push({ digest: (m[1] as string).toLowerCase(), path, line: i + 1, md5sumStyle, dotSlash })
  }
  return { lines: out }
}

/** Formats a manifest: lines sorted by path (code-unit order), two spaces, LF line ends. */
export function formatManifest(entries: ReadonlyArray<{ path: string; digest: string }>): string {
  return [...entries]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((e) => `${e.digest}  ${encodePath(e.path)}\n`)
    .join('')
}

/** Algorithms we can verify (node:crypto names), strongest first. */
export const KNOWN_ALGORITHMS: readonly string[] = ['sha512', 'sha384', 'sha256', 'sha224', 'sha1', 'md5']
