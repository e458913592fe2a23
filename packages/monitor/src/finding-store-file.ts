/**
 * The file {@link FindingStore}: `findings.jsonl` in a directory, an append-only JSON Lines file of
 * transitions (admit, ack, suppress), written under the SDK's inter-process lock and fsynced before
 * a call returns. The state is rebuilt by replaying the file, under the lock, before every change,
 * so several processes (a review per cron run, a reviewer acknowledging) can share it. A crash during
 * an append leaves at most an incomplete last line: it is ignored and reported ({@link
 * FileFindingStore.tornTail}), cut off by the next write, and no earlier transition is lost.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) information system activity review; 164.312(c)(1) integrity (the
 * dispositions survive crashes and concurrent writers).
 *
 * @module
 */
import { resolve } from 'node:path'
import { type Clock, systemClock } from '@safeguards/core'
import { MonitorFindingUnknownError } from './errors.js'
import type { Finding } from './finding.js'
import { FindingFile } from './internal/finding-file.js'
import {
  checkReview,
  checkUntil,
  compareStatus,
  distinctFindings,
  iso,
  refuseSelfReview,
} from './internal/lifecycle-rules.js'
import { apply, type Replayed, type Transition } from './internal/transitions.js'
import type { AcknowledgeOptions, FindingStatus, FindingStore, SuppressOptions } from './lifecycle.js'

/** Options of {@link openFindingStore}. */
export interface FileFindingStoreOptions {
  /** The store's directory (created when missing). */
  dir: string
  /** Clock for transition times and suppression expiry. */
  clock?: Clock
  /** How long to wait for another process's lock (default 15 s). */
  lockTimeoutMs?: number
}

/** An incomplete last line found by the latest read (ignored; cut off by the next write). */
export interface TornTail {
  /** Where the complete lines end. */
  readonly offset: number
  /** Bytes of the incomplete line. */
  readonly bytes: number
}

/** The file store: a {@link FindingStore} plus what it found on disk. */
export interface FileFindingStore extends FindingStore {
  /** The JSON Lines file. */
  readonly path: string
  /** The incomplete last line the latest read found and ignored, or undefined. */
  tornTail(): TornTail | undefined
}

const FILE = 'findings.jsonl'

/**
 * Opens (creating when missing) the file finding store in `dir`.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review; 164.308(a)(6)(ii) response and reporting.
 *
 * @hipaa 164.308(a)(1)(ii)(D) supports
 * @hipaa 164.308(a)(6)(ii) supports
 * @nist AU-6 164.308(a)(1)(ii)(D): keeps each finding's review outcome (disposition, reviewer, time), so review is documented and a re-run never alerts twice
 * @nist IR-5 164.308(a)(6)(ii): tracks suspected incidents by stable finding id from new to acknowledged or suppressed, and refuses a review by the finding's own subject
 * @evidence the findings store: every finding's status, disposition, reviewer and time, as an append-only history
 * @appResponsibility Disposition every finding within your policy's time, by reviewers independent of the people reviewed; escalate inappropriate accesses under your incident procedures and sanction policy.
 * @verifiedBy packages/monitor/test/finding-store.test.ts
 *
 * @throws {MonitorFindingStoreError} when the file is damaged (a complete line that is not a
 * transition). @throws {IoError} (`ERR_IO`) when the store cannot be created, read or written.
 * @example
 * ```ts
 * const store = await openFindingStore({ dir: '/var/lib/ehr/findings' })
 * const fresh = await store.admit(result.findings)
 * for (const f of fresh) console.log('new', f.id, f.detector)
 * ```
 */
export async function openFindingStore(options: FileFindingStoreOptions): Promise<FileFindingStore> {
  if (typeof options?.dir !== 'string' || options.dir === '') throw new TypeError('"dir" expected a path')
  const file = new FindingFile(resolve(options.dir), FILE, options.lockTimeoutMs)
  await file.create()
  const clock = options.clock ?? systemClock
  return {
    path: file.path,
    tornTail: () => file.torn,
    async admit(findings: readonly Finding[]): Promise<Finding[]> {
      const list = distinctFindings(findings)
      return file.change((r) => admitted(r, list, clock.now()))
    },
    async acknowledge(id: string, options: AcknowledgeOptions): Promise<FindingStatus> {
      checkReview(id, options?.by, options?.disposition)
      return file.change((r) => {
        const t: Transition = {
          op: 'ack',
          id,
          disposition: options.disposition,
          by: options.by,
          at: iso(clock.now()),
        }
        return { lines: [t], value: review(id, options.by, r, t) }
      })
    },
    async suppress(id: string, options: SuppressOptions): Promise<FindingStatus> {
      checkReview(id, options?.by)
      return file.change((r) => {
        const now = clock.now()
        checkUntil(options.until, now)
        const t: Transition = { op: 'suppress', id, until: iso(options.until), by: options.by, at: iso(now) }
        return { lines: [t], value: review(id, options.by, r, t) }
      })
    },
    async get(id: string): Promise<FindingStatus | undefined> {
      return (await file.load()).state.get(id)
    },
    async list(): Promise<FindingStatus[]> {
      return [...(await file.load()).state.values()].sort(compareStatus)
    },
    async close(): Promise<void> {},
  }
}

/** The findings `list` admits at `now` (unknown, or suppressed until before now), as transitions. */
function admitted(
  r: Replayed,
  list: readonly Finding[],
  now: number,
): { lines: Transition[]; value: Finding[] } {
  const at = iso(now)
  const fresh = list.filter((f) => {
    const s = r.state.get(f.id)
    return s === undefined || (s.state === 'suppressed' && Date.parse(s.until ?? '') <= now)
  })
  const lines: Transition[] = fresh.map((f) => ({
    op: 'admit',
    id: f.id,
    detector: f.detector,
    severity: f.severity,
    ...(f.who === undefined ? {} : { who: f.who }),
    at,
  }))
  return { lines, value: fresh }
}

/** Applies a review transition to the state, refusing an unknown finding and a self-review. */
function review(id: string, by: string, r: Replayed, t: Transition): FindingStatus {
  const status = r.state.get(id)
  if (status === undefined) throw new MonitorFindingUnknownError(id)
  refuseSelfReview(status, by)
  apply(r.state, t)
  return r.state.get(id) as FindingStatus
}
