/**
 * The local keyring's live state and the machinery behind its facade (`LocalKeyring`): the
 * versions and their material, the state epoch, loading and refreshing from the file, applying key
 * commands (the pure lifecycle, staged, written under the file lock, then made live) and
 * announcing them as events.
 */
import {
  type Clock,
  createEmitter,
  type Emitter,
  type RandomSource,
  randomBytes,
  systemClock,
  timingSafeEqual,
} from '@safeguards/core'
import { KeyUnavailableError } from '../errors.js'
import type { KeyDescription } from '../kek-provider.js'
import type { LocalKeyringOptions } from '../local-keyring.js'
import { getAead } from './aead.js'
import { LOCK_TIMEOUT_MS, withFileLock } from './fs.js'
import { KekCrypto } from './keyring-crypto.js'
import { keyRefOf, PROVIDER_ID, versionOf } from './keyring-file.js'
import { applyLifecycle, type KeyChange, type KeyMeta, type LifecycleCommand } from './keyring-lifecycle.js'
import { KeyringStore, type LoadedKeyring } from './keyring-store.js'
import { keyringUsageSettings, UsageBlocks } from './keyring-usage.js'
import { pooledRandom } from './random-pool.js'

/** The keyring's versions and their material: replaced as a whole, never modified in place. */
interface Versions {
  keys: KeyMeta[]
  material: Map<number, Uint8Array>
}

/** A staged command: the state it leads to, the version it concerned, the changes to announce. */
interface Staged {
  state: Versions
  version: number
  changes: KeyChange[]
}

const SOURCE = '@safeguards/envelope'

function checkMs(value: number, name: string, max: number): number {
  if (!Number.isSafeInteger(value) || value < 0 || value > max)
    throw new RangeError(`"${name}" expected an integer from 0 to ${max}`)
  return value
}

/** The state and machinery of one `LocalKeyring`. */
export class KeyringCore {
  /** The file (or none, in memory), its seal and master key. */
  readonly file: KeyringStore
  /** Wraps and unwraps under the versions' material. */
  readonly crypto: KekCrypto = new KekCrypto(getAead())
  readonly random: RandomSource
  readonly clock: Clock
  /** The usage budget. */
  readonly usage: UsageBlocks
  readonly #emitter: Emitter
  readonly #refreshMs: number
  readonly #lockTimeoutMs: number
  /** The keyring name (from the file once loaded). */
  name: string
  /** The live versions and material. */
  state: Versions = { keys: [], material: new Map() }
  /** The key-state epoch: moves with every change that takes effect. */
  epoch = 0
  /** Serialises key commands and reloads in this process. */
  #queue: Promise<unknown> = Promise.resolve()
  /** A check of the file for another process's change, while one runs. */
  #checking: Promise<void> | undefined

  /** @param path - the file (undefined: in memory); @param name - the keyring name until a load. */
  constructor(path: string | undefined, name: string, options: LocalKeyringOptions) {
    this.name = name
    this.random = options.random ?? pooledRandom(randomBytes)
    this.file = new KeyringStore(path, this.crypto.aead, this.random, options)
    this.clock = options.clock ?? systemClock
    this.#refreshMs = checkMs(options.refreshMs ?? 5000, 'refreshMs', 86_400_000)
    this.#lockTimeoutMs = checkMs(options.lockTimeoutMs ?? LOCK_TIMEOUT_MS, 'lockTimeoutMs', 3_600_000)
    this.#emitter = createEmitter(options)
    this.usage = new UsageBlocks(
      keyringUsageSettings(options.usage, path),
      (v) => keyRefOf(this.name, v),
      (keyRef, reserved) => this.#warn(keyRef, reserved),
    )
  }

  // --- the file: load, refresh ------------------------------------------------------------------

  async load(): Promise<void> {
    const loaded = await this.file.read(this.clock.now())
    if (this.#differs(loaded)) this.epoch++
    this.name = loaded.name
    for (const [v, old] of this.state.material) if (!loaded.material.has(v)) old.fill(0)
    this.state = { keys: loaded.keys, material: loaded.material }
    this.crypto.prune(loaded.material)
  }

  /** True when a loaded keyring changes any version's state or material (or the name). */
  #differs(loaded: LoadedKeyring): boolean {
    const meta = (keys: readonly KeyMeta[]): string =>
      JSON.stringify(keys.map((k) => [k.version, k.state, k.retired === true, k.createdAt]))
    const live = this.state
    if (loaded.name !== this.name || meta(loaded.keys) !== meta(live.keys)) return true
    if (loaded.material.size !== live.material.size) return true
    for (const [v, raw] of loaded.material) {
      const old = live.material.get(v)
      if (old === undefined || !timingSafeEqual(old, raw)) return true
    }
    return false
  }

  /**
   * Checks, at most every `refreshMs`, whether another process replaced the keyring file, and
   * reloads it (serialised with this keyring's own changes) when it did. Undefined when no check
   * is due, so the common path stays synchronous.
   */
  refresh(): Promise<void> | undefined {
    if (this.#checking !== undefined) return this.#checking
    if (!this.file.due(this.clock.now(), this.#refreshMs)) return undefined
    const check = async (): Promise<void> => {
      if (await this.file.changed()) await this.load()
    }
    const run = this.#queue.then(check, check)
    this.#queue = run.catch(() => undefined)
    this.#checking = run.finally(() => {
      this.#checking = undefined
    })
    return this.#checking
  }

  // --- key commands ------------------------------------------------------------------------------

  /**
   * Serialises key commands in this process, and across processes through the file lock. The
   * command is applied to the state as re-read under the lock; the new state replaces the live
   * one only once it is on disk (no wrap ever uses a version that a failed write left unsaved),
   * and its changes are announced after that.
   */
  command(command: LifecycleCommand): Promise<KeyDescription> {
    const run = async (): Promise<KeyDescription> => {
      const { version, changes } = await this.#apply(command)
      await this.announce(changes)
      return this.describe(this.meta(version) as KeyMeta)
    }
    const p = this.#queue.then(run, run)
    this.#queue = p.catch(() => undefined)
    return p
  }

  async #apply(command: LifecycleCommand): Promise<{ version: number; changes: KeyChange[] }> {
    const path = this.file.path
    if (path === undefined) return this.#commit(this.#stage(command))
    return withFileLock(
      path,
      async (lock) => {
        await this.load()
        const staged = this.#stage(command)
        try {
          await this.file.write(this.snapshot(staged.state), false, lock)
        } catch (e) {
          for (const [v, raw] of staged.state.material) if (this.state.material.get(v) !== raw) raw.fill(0)
          throw e
        }
        return this.#commit(staged)
      },
      this.#lockTimeoutMs,
    )
  }

  /** The keyring as the file stores it, with `state`'s versions. */
  snapshot(state: Versions): LoadedKeyring {
    return { name: this.name, keys: state.keys, material: state.material }
  }

  /** The state `command` leads to (the live state is left as it is). */
  #stage(command: LifecycleCommand): Staged {
    const r = applyLifecycle(this.state.keys, command, this.clock.now())
    const material = new Map(this.state.material)
    if (r.added) material.set(r.version, this.random(32).slice())
    // Staged: the material is zeroed when the destruction is on disk (see #commit).
    if (command.op === 'destroy') material.delete(r.version)
    return { state: { keys: r.keys, material }, version: r.version, changes: r.changes }
  }

  /** Makes a staged state live; material it dropped (a destroyed version) is zeroed. */
  #commit(staged: Staged): {
    version: number
    changes: KeyChange[]
  } {
    for (const [v, raw] of this.state.material) {
      if (staged.state.material.get(v) === raw) continue
      raw.fill(0)
      this.crypto.forget(v)
    }
    this.state = staged.state
    // Every mutation moves the state epoch as it takes effect (data-key caches drop their keys).
    this.epoch++
    return { version: staged.version, changes: staged.changes }
  }

  /** Delivers the events of committed changes, in order (awaiting critical sinks). */
  async announce(changes: readonly KeyChange[]): Promise<void> {
    if (!this.#emitter.active) return
    for (const [type, version] of changes) {
      const keyRef = keyRefOf(this.name, version)
      await this.#emitter.emit({ type, at: this.clock.now(), source: SOURCE, outcome: 'success', keyRef })
    }
  }

  #warn(keyRef: string, reserved: bigint): Promise<void> | undefined {
    if (!this.#emitter.active) return undefined
    return this.#emitter.emit({
      type: 'key.budget.warning',
      at: this.clock.now(),
      source: SOURCE,
      outcome: 'success',
      keyRef,
      counts: { wraps: Number(reserved), limit: Number(this.usage.settings.limit) },
    })
  }

  meta(version: number | undefined): KeyMeta | undefined {
    return version === undefined ? undefined : this.state.keys.find((x) => x.version === version)
  }

  byRef(keyRef: string): KeyMeta | undefined {
    return this.meta(versionOf(this.name, keyRef))
  }

  primaryMeta(): KeyMeta | undefined {
    return this.state.keys.find((x) => x.state === 'primary')
  }

  noPrimary(): KeyUnavailableError {
    return new KeyUnavailableError(`${PROVIDER_ID}:${this.name}`, 'no-primary')
  }

  describe(k: KeyMeta, wraps?: bigint): KeyDescription {
    const d: KeyDescription = {
      keyRef: keyRefOf(this.name, k.version),
      providerId: PROVIDER_ID,
      version: k.version,
      state: k.state,
      createdAt: k.createdAt,
    }
    if (k.retired) d.retired = true
    const { limit, warnAt } = this.usage.settings
    if (wraps !== undefined) d.usage = { wraps, limit, warnAt }
    return d
  }

  /** The version `wrap` uses: `keyRef` when given (primary or decrypt-only), else the primary. */
  wrapTarget(keyRef: string | undefined): KeyMeta {
    if (keyRef === undefined) {
      const k = this.primaryMeta()
      if (k === undefined) throw this.noPrimary()
      return k
    }
    const k = this.byRef(keyRef)
    if (k === undefined) throw new KeyUnavailableError(keyRef, 'unknown')
    if (k.state !== 'primary' && k.state !== 'decrypt-only')
      throw new KeyUnavailableError(keyRef, k.retired ? 'retired' : (k.state as 'disabled' | 'destroyed'))
    return k
  }
}
