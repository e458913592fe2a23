/**
 * The local view of the PostgreSQL emergency store: every grant, reloaded on each resync, updated
 * by `NOTIFY` on every stored change (this instance's or another's) and by this instance's own
 * commits. It is fresh only while the listening connection works: a failed resync or an unread
 * notification makes it stale, and decisions then find no grant (fail closed).
 *
 * @module
 */
import { type EmergencyGrant, isEmergencyGrant } from '../emergency-access.js'
import type { GrantSqlClient, GrantSqlListener } from '../emergency-store-postgres.js'
import { deepFreeze } from './deep-freeze.js'
import { GrantView, type VersionedGrant } from './grant-view.js'

/** A row's grant, if it is well-formed and has this id (a hand-edited or corrupted row never grants). */
function rowGrant(row: Record<string, unknown> | undefined, id: string): VersionedGrant | undefined {
  if (row === undefined) return undefined
  const g = deepFreeze(row.body) as EmergencyGrant
  if (!isEmergencyGrant(g) || g.id !== id) return undefined
  return { grant: g, version: Number(row.version) }
}

/** The view of one store and the queries that keep it. */
export class PgGrantView {
  /** The grants and their versions (`view.grants` is what decisions read). */
  readonly view: GrantView = new GrantView()
  /** When the last successful resync started (clock ms). */
  freshAt: number = Number.NEGATIVE_INFINITY
  /** True while notifications can arrive (LISTEN done, the listener answering). */
  listening = false
  readonly #client: GrantSqlClient
  readonly #listener: GrantSqlListener
  readonly #table: string
  readonly #channel: string
  readonly #clock: { now(): number }

  constructor(
    client: GrantSqlClient,
    listener: GrantSqlListener,
    table: string,
    channel: string,
    clock: { now(): number },
  ) {
    this.#client = client
    this.#listener = listener
    this.#table = table
    this.#channel = channel
    this.#clock = clock
  }

  /** Reads one grant into the view. */
  async fetch(id: string): Promise<EmergencyGrant | undefined> {
    const { rows } = await this.#client.query(`SELECT version, body FROM ${this.#table} WHERE id = $1`, [id])
    return this.view.put(id, rowGrant(rows[0], id))
  }

  /** A notification of a stored change: read that grant (failing closed when the read fails). */
  notified(message: { channel: string; payload?: string | undefined }): void {
    if (message.channel !== this.#channel || typeof message.payload !== 'string') return
    this.fetch(message.payload).catch(() => {
      this.freshAt = Number.NEGATIVE_INFINITY // could not read what changed: fail closed until a resync
    })
  }

  /** Checks the listener, then reloads every grant. */
  async refresh(): Promise<void> {
    const started = this.#clock.now()
    try {
      await this.#listener.query('SELECT 1')
    } catch (e) {
      this.listening = false // notifications can no longer arrive: fail closed
      this.freshAt = Number.NEGATIVE_INFINITY
      throw e
    }
    const { rows } = await this.#client.query(`SELECT id, version, body FROM ${this.#table}`)
    const seen = new Set<string>()
    for (const row of rows) {
      seen.add(String(row.id))
      this.view.put(String(row.id), rowGrant(row, String(row.id)))
    }
    const grants = this.view.grants
    for (const id of grants.keys()) if (!seen.has(id)) grants.delete(id)
    if (this.listening) this.freshAt = started
  }

  /** Stores `next` if the stored grant is still `expected` (null: a new grant), notifying every instance. */
  async commit(next: EmergencyGrant, expected: EmergencyGrant | null): Promise<boolean> {
    const body = JSON.stringify(next)
    const table = this.#table
    const { rows } =
      expected === null
        ? await this.#client.query(
            `WITH ins AS (INSERT INTO ${table} (id, version, body) VALUES ($1, 1, $2::jsonb)
               ON CONFLICT (id) DO NOTHING RETURNING id, version, body)
             SELECT ins.*, pg_notify($3, ins.id) FROM ins`,
            [next.id, body, this.#channel],
          )
        : await this.#client.query(
            `WITH up AS (UPDATE ${table} SET version = version + 1, body = $2::jsonb, updated_at = now()
               WHERE id = $1 AND version = $3 RETURNING id, version, body)
             SELECT up.*, pg_notify($4, up.id) FROM up`,
            [next.id, body, this.view.versionOf(expected) ?? -1, this.#channel],
          )
    if (rows[0] !== undefined) {
      this.view.put(next.id, rowGrant(rows[0], next.id))
      return true
    }
    await this.fetch(next.id)
    return false
  }
}
