/**
 * The provider's access to its token: sessions from the pool (a dead session is discarded and,
 * for idempotent calls, replaced once), the key state read from the token and cached for
 * `cacheTtlMs` (reads numbered, so an older read never replaces a newer one), the key-state epoch,
 * and running a wrap or unwrap with a version's key handle while mapping token failures onto the
 * provider contract.
 */
import { type Clock, SafeguardsError } from '@safeguards/core'
import { KekProviderError, KeyUnavailableError } from '@safeguards/envelope'
import { ckrName, type Handle, type LibraryLease } from './binding.js'
import { KEY_GONE, keepSession, SESSION_FAULTS } from './faults.js'
import { fingerprintOf, unavailable } from './key-state.js'
import type { SessionPool } from './session-pool.js'
import {
  assertSafe,
  loadState,
  type TokenContext,
  type TokenState,
  type VersionObject,
} from './token-store.js'

/** What a {@link TokenAccess} needs. */
export interface TokenAccessOptions {
  lease: LibraryLease
  pool: SessionPool
  providerId: string
  keyName: string
  allowImportedKeys: boolean
  cacheTtlMs: number
  clock: Clock
}

/** Sessions, the cached key state and the epoch of one provider. */
export class TokenAccess {
  readonly #lease: LibraryLease
  readonly #pool: SessionPool
  readonly #providerId: string
  readonly #keyName: string
  readonly #allowImportedKeys: boolean
  readonly #cacheTtlMs: number
  readonly #clock: Clock
  #state: TokenState | undefined
  #loadedAt = 0
  /** Key-state epoch: bumped when a lifecycle change starts and when a read finds the states changed. */
  #epoch = 0
  /** The version states of the last read, to tell whether a read found a change. */
  #fingerprint = ''
  /** Numbers of the last read started and of the last read whose state was kept. */
  #readSeq = 0
  #appliedSeq = 0
  #loading: Promise<TokenState> | undefined

  constructor(o: TokenAccessOptions) {
    this.#lease = o.lease
    this.#pool = o.pool
    this.#providerId = o.providerId
    this.#keyName = o.keyName
    this.#allowImportedKeys = o.allowImportedKeys
    this.#cacheTtlMs = o.cacheTtlMs
    this.#clock = o.clock
  }

  /** The key-state epoch. */
  get epoch(): number {
    return this.#epoch
  }

  /** Moves the epoch: a lifecycle change is starting (a data-key cache stops serving keys now). */
  changing(): void {
    this.#epoch++
  }

  /** Drops the cached state (a lifecycle change ended: the next use reads the token). */
  invalidate(): void {
    this.#state = undefined
  }

  /** True when the cached state is older than `cacheTtlMs` and no read is in flight. */
  stale(): boolean {
    return this.#loading === undefined && this.#clock.now() - this.#loadedAt >= this.#cacheTtlMs
  }

  /** Reads the key state in `ctx`, under the key policy. */
  load(ctx: TokenContext): TokenState {
    return loadState(ctx, this.#keyName, { allowImportedKeys: this.#allowImportedKeys })
  }

  /**
   * Reads the key state from the token, sharing a read already in flight unless `fresh` (after a
   * lifecycle change, a read started before it must not answer). Reads are numbered, and a read
   * never replaces the state of a read that started after it.
   */
  reload(fresh = false): Promise<TokenState> {
    if (this.#loading !== undefined && !fresh) return this.#loading
    const seq = ++this.#readSeq
    const loading = this.withSession((ctx) => this.load(ctx))
      .catch((e: unknown) => {
        if (e instanceof SafeguardsError) throw e
        const rv = ckrName(e)
        if (rv !== undefined && SESSION_FAULTS.has(rv)) {
          throw new KeyUnavailableError(`${this.#providerId}:${this.#keyName}`, 'unreachable', { cause: e })
        }
        throw new KekProviderError(
          this.#providerId,
          `reading the key state failed (${rv ?? 'native error'})`,
          {
            cause: e,
          },
        )
      })
      .then(
        (state) => {
          if (this.#loading === loading) this.#loading = undefined
          if (seq < this.#appliedSeq) return state
          this.#appliedSeq = seq
          const fingerprint = fingerprintOf(state)
          if (fingerprint !== this.#fingerprint) {
            this.#fingerprint = fingerprint
            this.#epoch++
          }
          this.#state = state
          this.#loadedAt = this.#clock.now()
          return state
        },
        (e: unknown) => {
          if (this.#loading === loading) this.#loading = undefined
          throw e
        },
      )
    this.#loading = loading
    return loading
  }

  /** The state, read again when older than `cacheTtlMs`. */
  async fresh(): Promise<TokenState> {
    const state = this.#state
    if (state !== undefined && this.#clock.now() - this.#loadedAt < this.#cacheTtlMs) return state
    return this.reload()
  }

  /**
   * Runs `fn` on a pooled session. When the session turns out to be dead (closed by the token, a
   * token reset, a lost login), it is discarded and, if `retry`, `fn` runs once more on a fresh
   * session (logging in again): wrap, unwrap and reads are idempotent; lifecycle changes are not
   * retried.
   */
  async withSession<T>(fn: (ctx: TokenContext) => Promise<T> | T, retry = true): Promise<T> {
    const { library, binding } = this.#lease
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#pool.use((session) => fn({ library, binding, session }), keepSession)
      } catch (e) {
        const rv = ckrName(e)
        if (rv === undefined || !SESSION_FAULTS.has(rv)) throw e
        this.#pool.discardIdle()
        if (!retry || attempt > 0) throw e
      }
    }
  }

  /**
   * Runs a wrap or unwrap with the version's key handle and maps token failures onto the provider
   * contract. When the token says the handle is invalid (the object was replaced or the token
   * renumbered its handles, for example after an HA failover), the state is read again and, if the
   * version is still usable, the call runs once more with the new handle.
   */
  async run<T>(
    object: VersionObject,
    keyRef: string,
    op: 'wrap' | 'unwrap',
    fn: (ctx: TokenContext, handle: Handle) => Promise<T>,
  ): Promise<T> {
    let current = object
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = current.handle
        return await this.withSession((ctx) => fn(ctx, handle))
      } catch (e) {
        if (e instanceof SafeguardsError) throw e
        const rv = ckrName(e)
        if (rv === 'CKR_KEY_FUNCTION_NOT_PERMITTED' || (rv !== undefined && KEY_GONE.has(rv))) {
          // Someone changed the key in the token: re-read the state and act on it as it now is.
          const state = await this.reload()
          const error = unavailable(state, object.version, keyRef)
          if (error !== undefined) throw error
          const now = state.keys.get(object.version) as VersionObject
          assertSafe(now, keyRef)
          if (op === 'wrap' && !now.encrypt) throw new KeyUnavailableError(keyRef, 'disabled')
          if (attempt === 0 && rv !== 'CKR_KEY_FUNCTION_NOT_PERMITTED') {
            current = now
            continue
          }
          throw new KeyUnavailableError(
            keyRef,
            rv === 'CKR_KEY_FUNCTION_NOT_PERMITTED' ? 'disabled' : 'unknown',
          )
        }
        if (rv !== undefined && SESSION_FAULTS.has(rv)) {
          throw new KeyUnavailableError(keyRef, 'unreachable', { cause: e })
        }
        throw new KekProviderError(this.#providerId, `${op} failed (${rv ?? 'native error'})`, { cause: e })
      }
    }
  }
}
