/**
 * The key-version listing shared by `keys list` (the local keyring) and `hsm list` (a token):
 * one JSON shape and one tab-separated line per version.
 *
 * @module
 */
import type { KeyDescription } from '@safeguards/envelope'
import { safeText } from '../output.js'

/** One key version as `list --json` prints it. */
export interface KeyVersionDocument {
  keyRef: string
  version: number
  state: KeyDescription['state']
  retired: boolean
  /** ISO 8601, or null when the provider does not know. */
  createdAt: string | null
}

const createdAt = (k: KeyDescription): string | null =>
  k.createdAt === undefined ? null : new Date(k.createdAt).toISOString()

/** The JSON form of a key version. */
export function keyVersionDocument(k: KeyDescription): KeyVersionDocument {
  return {
    keyRef: k.keyRef,
    version: k.version,
    state: k.state,
    retired: k.retired === true,
    createdAt: createdAt(k),
  }
}

/** The line `keyRef<TAB>state<TAB>created-at` (the key reference escaped: it comes from a file). */
export function keyVersionLine(k: KeyDescription): string {
  return `${safeText(k.keyRef)}\t${k.retired ? 'retired' : k.state}\t${createdAt(k) ?? '-'}`
}
