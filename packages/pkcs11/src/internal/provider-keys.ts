/**
 * The provider's key versions as the application sees them: key references, descriptions (state,
 * creation time, usage), usage warnings as events, and lifecycle changes serialised in this
 * process, each made on a freshly read state, read back, then announced as an event.
 */
import { type Clock, type Emitter, SafeguardsError } from '@safeguards/core'
import {
  KekProviderError,
  type KeyDescription,
  type KeyState,
  KeyUnavailableError,
  UsageLimitError,
} from '@safeguards/envelope'
import { Pkcs11ClosedError, Pkcs11MechanismError } from '../errors.js'
import { ckrName } from './binding.js'
import { formatKeyRef, parseKeyRef } from './codec.js'
import { stateOf, usable } from './key-state.js'
import type { KeyChange } from './lifecycle.js'
import type { TokenAccess } from './token-access.js'
import type { TokenContext, TokenState, VersionObject } from './token-store.js'
import type { UsageBudget } from './usage.js'

/** What {@link ProviderKeys} needs. */
export interface ProviderKeysOptions {
  providerId: string
  keyName: string
  token: TokenAccess
  budget: UsageBudget
  emitter: Emitter
  clock: Clock
  isClosed: () => boolean
}

/** Key references, descriptions, warnings and lifecycle changes of one provider. */
export class ProviderKeys {
  readonly providerId: string
  readonly keyName: string
  readonly #token: TokenAccess
  readonly #budget: UsageBudget
  readonly #emitter: Emitter
  readonly #clock: Clock
  readonly #isClosed: () => boolean
  #queue: Promise<unknown> = Promise.resolve()

  constructor(o: ProviderKeysOptions) {
    this.providerId = o.providerId
    this.keyName = o.keyName
    this.#token = o.token
    this.#budget = o.budget
    this.#emitter = o.emitter
    this.#clock = o.clock
    this.#isClosed = o.isClosed
  }

  /** The key state (cached up to `cacheTtlMs`). @throws {Pkcs11ClosedError} once closed. */
  fresh(): Promise<TokenState> {
    if (this.#isClosed()) return Promise.reject(new Pkcs11ClosedError())
    return this.#token.fresh()
  }

  /** Waits for the lifecycle changes queued so far. */
  settled(): Promise<unknown> {
    return this.#queue
  }

  ref(version: number): string {
    return formatKeyRef(this.providerId, this.keyName, version)
  }

  familyRef(): string {
    return `${this.providerId}:${this.keyName}`
  }

  versionOf(keyRef: string): number {
    if (typeof keyRef !== 'string') throw new TypeError('"keyRef" expected a string')
    const version = parseKeyRef(keyRef, this.providerId, this.keyName)
    if (version === undefined) throw new KeyUnavailableError(keyRef, 'unknown')
    return version
  }

  describeWith(state: TokenState, version: number, s: KeyState, wraps: bigint): KeyDescription {
    const meta = state.doc.versions[String(version)]
    const d: KeyDescription = { keyRef: this.ref(version), providerId: this.providerId, version, state: s }
    if (s === 'disabled' && meta?.retired === true) d.retired = true
    if (meta?.createdAt !== undefined) d.createdAt = meta.createdAt
    const { limit, warnAt } = this.#budget.settings
    d.usage = { wraps, limit, warnAt }
    return d
  }

  async describe(state: TokenState, version: number, s: KeyState): Promise<KeyDescription> {
    return this.describeWith(state, version, s, await this.#budget.used(this.ref(version)))
  }

  warn(version: number, reserved: bigint): Promise<void> | undefined {
    if (!this.#emitter.active) return undefined
    return this.#emitter.emit({
      type: 'key.budget.warning',
      at: this.#clock.now(),
      source: '@safeguards/pkcs11',
      outcome: 'success',
      keyRef: this.ref(version),
      counts: { wraps: Number(reserved), limit: Number(this.#budget.settings.limit) },
    })
  }

  /** Serialises lifecycle changes in this process, each on a freshly read state, and re-reads after. */
  mutate(fn: (ctx: TokenContext, state: TokenState) => KeyChange): Promise<KeyDescription> {
    const run = async (): Promise<KeyDescription> => {
      if (this.#isClosed()) throw new Pkcs11ClosedError()
      // Before the token changes: a data-key cache stops serving keys from this moment.
      this.#token.changing()
      let version: number
      let type: KeyChange[1]
      try {
        ;[version, type] = await this.#token.withSession((ctx) => fn(ctx, this.#token.load(ctx)), false)
      } catch (e) {
        if (e instanceof SafeguardsError || e instanceof TypeError || e instanceof RangeError) throw e
        const rv = ckrName(e)
        if (rv === 'CKR_MECHANISM_INVALID' || rv === 'CKR_TEMPLATE_INCONSISTENT') {
          throw new Pkcs11MechanismError(`the token refused to create or change the key (${rv})`)
        }
        throw new KekProviderError(this.providerId, `key lifecycle change failed (${rv ?? 'native error'})`, {
          cause: e,
        })
      } finally {
        this.#token.invalidate()
      }
      const state = await this.#token.reload(true)
      const described = await this.describe(state, version, stateOf(state, version) ?? 'destroyed')
      // After the change is in the token and read back: a failing critical sink rejects, the change stands.
      if (type !== undefined && this.#emitter.active)
        await this.#emitter.emit({
          type,
          at: this.#clock.now(),
          source: '@safeguards/pkcs11',
          outcome: 'success',
          keyRef: described.keyRef,
        })
      return described
    }
    const next = this.#queue.then(run, run)
    this.#queue = next.catch(() => undefined)
    return next
  }

  /**
   * The version a wrap uses (`keyRef` when given, else the primary), with one use of its budget
   * reserved. At the limit under policy `rotate` (and no `keyRef`), rotates once, unless another
   * host already did, and takes the new primary.
   *
   * @throws {UsageLimitError} at the limit under policy `throw`.
   */
  async reserveWrap(
    keyRef: string | undefined,
    rotate: () => Promise<unknown>,
  ): Promise<{ version: number; keyRef: string; object: VersionObject }> {
    for (let attempt = 0; ; attempt++) {
      const state = await this.fresh()
      const version = keyRef !== undefined ? this.versionOf(keyRef) : this.#primaryOf(state)
      const ref = this.ref(version)
      const object = usable(state, version, ref)
      if (await this.#budget.reserve(ref, (n) => this.warn(version, n)))
        return { version, keyRef: ref, object }
      const { policy, limit } = this.#budget.settings
      if (policy === 'rotate' && attempt === 0 && keyRef === undefined) {
        // Another host may have rotated already: rotate only if the primary is still this version.
        const now = await this.#token.reload()
        if (now.doc.primary === version) await rotate()
        continue
      }
      throw new UsageLimitError(ref, limit)
    }
  }

  /** The primary version. @throws {KeyUnavailableError} (`no-primary`) when there is none. */
  #primaryOf(state: TokenState): number {
    const primary = state.doc.primary
    if (primary === undefined || stateOf(state, primary) !== 'primary') {
      throw new KeyUnavailableError(this.familyRef(), 'no-primary')
    }
    return primary
  }
}
