/**
 * The key names and record strings of the store under its prefix (see `scripts.ts` for the
 * layout): session, tombstone, data and per-user index keys, and the record string and TTL the
 * scripts write.
 *
 * @module
 */
import { bytesToHex, sha256, utf8Encode } from '@safeguards/core'
import type { SessionRecord } from '@safeguards/session'

/** A data argument: `-` for none, `+<json>` for some. */
export const dataArg = (data: string | undefined): string => (data === undefined ? '-' : `+${data}`)

const roleArg = (r: SessionRecord): string => (r.role === null ? '-' : `+${r.role}`)

/** The keys and record strings of one store. */
export class KeyLayout {
  /** The key prefix, for example `sg:sess:`. */
  readonly prefix: string
  /** How long Redis keeps a record past its deadline (ms), as the scripts' argument. */
  readonly grace: string

  constructor(prefix: string, grace: string) {
    this.prefix = prefix
    this.grace = grace
  }

  /** The record of session `id`. */
  s(id: string): string {
    return `${this.prefix}s:${id}`
  }
  /** The tombstone of session `id`. */
  t(id: string): string {
    return `${this.prefix}t:${id}`
  }
  /** The app data of session `id`. */
  d(id: string): string {
    return `${this.prefix}d:${id}`
  }
  /** The session index of a user (named by the SHA-256 of the user id). */
  u(userId: string): string {
    return `${this.prefix}u:${bytesToHex(sha256(utf8Encode(userId)))}`
  }

  /** The record's key TTL at `now`: to its nearer deadline, plus the grace. */
  ttl(r: SessionRecord, now: number): string {
    return String(
      Math.max(
        1,
        Math.min(r.lastActivityAt + r.idleTimeoutMs, r.absoluteExpiresAt) - now + Number(this.grace),
      ),
    )
  }

  /** The record string up to the index key (see `scripts.ts`). */
  head(r: SessionRecord, now: number): string {
    return `${r.lastActivityAt}|${now}|${r.idleTimeoutMs}|${r.absoluteExpiresAt}|${r.createdAt}|${r.authAt}|${roleArg(r)}|`
  }
}
