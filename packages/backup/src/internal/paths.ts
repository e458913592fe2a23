/**
 * Path rules for manifest and fetch entries (untrusted input) and for names found on disk.
 * RFC 8493 §2.1.3 and §5.1 (special directory characters: path traversal), plus the Windows-style and control-character
 * cases that the Library of Congress conformance suite exercises.
 *
 * @module
 */
import { hasLoneSurrogate } from '@safeguards/core'

/** Why a path is unsafe, or null when it is acceptable. */
export type PathProblem =
  | 'empty'
  | 'absolute'
  | 'home'
  | 'backslash'
  | 'drive'
  | 'dot-segment'
  | 'empty-segment'
  | 'control'
  | 'surrogate'

/**
 * Checks one relative path (after manifest decoding and after removing a tolerated leading
 * `./`). Returns the problem, or null.
 */
export function pathProblem(path: string): PathProblem | null {
  if (path.length === 0) return 'empty'
  if (path.startsWith('/')) return 'absolute'
  if (path.startsWith('~')) return 'home'
  if (path.includes('\\')) return 'backslash'
  if (/^[A-Za-z]:/.test(path)) return 'drive'
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we reject
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'control'
  if (hasLoneSurrogate(path)) return 'surrogate'
  for (const segment of path.split('/')) {
    if (segment === '') return 'empty-segment'
    if (segment === '.' || segment === '..') return 'dot-segment'
  }
  return null
}

/** NFC form used for every comparison between names. */
export function nfc(path: string): string {
  return path.normalize('NFC')
}

/** Case-folded NFC form, for collision warnings (case-insensitive filesystems). */
export function foldKey(path: string): string {
  return path.normalize('NFC').toLowerCase().normalize('NFC')
}

const SYSTEM_FILES = new Set(['.ds_store', 'thumbs.db', 'desktop.ini', 'ehthumbs.db'])

/** True for operating-system metadata files (Finder, Explorer) that copy tools often drop. */
export function isSystemFile(path: string): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1)
  return SYSTEM_FILES.has(base.toLowerCase()) || base.startsWith('._')
}
