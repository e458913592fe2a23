/**
 * The file behind the file finding store: one JSON Lines file of transitions, created empty and
 * durably, read whole and replayed, appended to durably under the inter-process lock (cutting
 * off an incomplete last line a crash left).
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review (the review history is kept, append-only).
 *
 * @module
 */
import { existsSync, mkdirSync } from 'node:fs'
import { open, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { IoError, utf8Encode } from '@safeguards/core'
import { type FileLock, withFileLock, writeFileAtomic } from '@safeguards/core/node'
import type { TornTail } from '../finding-store-file.js'
import { type Replayed, replay, type Transition } from './transitions.js'

/** One store's file, lock and last-read torn tail. */
export class FindingFile {
  /** The JSON Lines file. */
  readonly path: string
  /** The incomplete last line the latest read found and ignored, or undefined. */
  torn: TornTail | undefined
  readonly #dir: string
  readonly #lockPath: string
  readonly #lockOptions: { timeoutMs?: number }

  constructor(dir: string, file: string, lockTimeoutMs: number | undefined) {
    this.#dir = dir
    this.path = join(dir, file)
    this.#lockPath = join(dir, `${file}.lock`)
    this.#lockOptions = lockTimeoutMs === undefined ? {} : { timeoutMs: lockTimeoutMs }
  }

  /** Creates the directory and the empty file when missing. */
  async create(): Promise<void> {
    try {
      // Created empty and durably (the directory entry fsynced) the first time; exclusive, so two
      // processes opening a new store at once cannot replace each other's first transitions.
      mkdirSync(this.#dir, { recursive: true, mode: 0o700 })
      if (!existsSync(this.path)) await writeFileAtomic(this.path, new Uint8Array(0), { exclusive: true })
    } catch (e) {
      if (!(e instanceof IoError && e.syscallCode === 'EEXIST'))
        throw new IoError('create the findings store', this.path, { cause: e })
    }
  }

  /** Reads and replays the file (noting a torn tail). */
  async load(): Promise<Replayed> {
    let bytes: Uint8Array
    try {
      bytes = await readFile(this.path)
    } catch (e) {
      throw new IoError('read the findings store', this.path, { cause: e })
    }
    const r = replay(bytes)
    this.torn = r.torn === 0 ? undefined : { offset: r.end, bytes: r.torn }
    return r
  }

  /** Appends `lines` after the complete lines (cutting off a torn tail), durably, under the lock. */
  async #append(lock: FileLock, r: Replayed, lines: readonly Transition[]): Promise<void> {
    if (lines.length === 0) return
    lock.assertHeld()
    const fh = await open(this.path, 'r+')
    try {
      if (r.torn > 0) await fh.truncate(r.end)
      const text = lines.map((t) => `${JSON.stringify(t)}\n`).join('')
      await fh.write(utf8Encode(text), 0, undefined, r.end)
      await fh.sync()
    } catch (e) {
      throw new IoError('write the findings store', this.path, { cause: e })
    } finally {
      await fh.close()
    }
    this.torn = undefined
  }

  /** Runs `f` on the current state under the lock; it returns the transitions to append. */
  change<T>(f: (r: Replayed) => { lines: Transition[]; value: T }): Promise<T> {
    return withFileLock(
      this.#lockPath,
      async (lock) => {
        const r = await this.load()
        const { lines, value } = f(r)
        await this.#append(lock, r, lines)
        return value
      },
      this.#lockOptions,
    )
  }
}
