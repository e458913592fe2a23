/**
 * `safeguards audit findings list|ack|suppress`: the lifecycle of the monitor's findings, kept in a
 * store named by `--findings` (a directory, or a `postgres://…` URL), and the opener that
 * `audit review --findings` shares.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) information system activity review; 164.308(a)(6)(ii) response and
 * reporting (each finding dispositioned by someone other than its subject, on the record).
 *
 * @module
 */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { AuditEvent } from '@safeguards/audit-log'
import {
  DISPOSITIONS,
  type Disposition,
  type FindingStatus,
  type FindingStore,
  isOpen,
  openFindingStore,
  openPostgresFindingStore,
} from '@safeguards/monitor'
import pg from 'pg'
import { optionalString, type ParsedValues, parseCommandArgs, requireString } from '../args.js'
import type { CliIO } from '../command.js'
import { ExitCode, UsageError } from '../errors.js'
import { optionSpecs } from '../internal/options.js'
import { isPostgresUrl, parsePostgresSpec } from '../internal/postgres-spec.js'
import { safeText, writeJson, writeLine } from '../output.js'
import { LOG_OPTS, REVIEW_AGENT, recordRun, runAgent } from './audit-shared.js'

/** The usage lines of `audit findings`, for the `audit` command's usage text. */
export const FINDINGS_USAGE = `  findings    list --findings STORE [--open] [--json]
              ack --findings STORE --id ID --disposition D --by REVIEWER [--log LOG]
              suppress --findings STORE --id ID --until TIME --by REVIEWER [--log LOG]
              The lifecycle of review findings (STORE: a directory, or a postgres:// URL
              with an optional ?schema=NAME). list: one line per finding (state, severity,
              detector, id, subject, disposition, reviewer, time), --open only those still
              to review. ack: disposition D (appropriate, inappropriate, false-positive).
              suppress: quiet until the ISO 8601 time TIME, then it alerts again. The
              reviewer may not be the finding's subject. With --log, the disposition is
              appended to the audit log (the finding id, detector and disposition or
              time only). A directory STORE must exist (audit review --findings makes
              it). Exit 0, 1 damaged store, 2 usage (also: unknown id, self-review, no
              store), 74 I/O.`

/** A store opened for one command, and how to let it go. */
export interface OpenedFindings {
  store: FindingStore
  close(): Promise<void>
}

/**
 * Opens the findings store named by `--findings`: a directory (created when missing, unless
 * `create` is false) or a `postgres://…[?schema=NAME]` URL (schema default `safeguards_monitor`,
 * created when missing).
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review.
 *
 * @throws {UsageError} for an empty value, a malformed URL, or a missing directory store when
 * `create` is false; the store's own errors otherwise.
 * @example
 * ```ts
 * const { store, close } = await openFindings('./findings', io)
 * ```
 */
export async function openFindings(
  spec: string,
  io: CliIO,
  options: { create: boolean } = { create: true },
): Promise<OpenedFindings> {
  if (spec === '') throw new UsageError('--findings is empty')
  if (!isPostgresUrl(spec)) {
    const dir = resolve(io.cwd, spec)
    // Only a review creates a store: a mistyped path elsewhere must not report an empty one.
    if (!options.create && !existsSync(join(dir, 'findings.jsonl')))
      throw new UsageError('--findings: no findings store there (audit review --findings creates one)')
    const store = await openFindingStore({ dir })
    return { store, close: () => store.close() }
  }
  const { connectionString, schema } = parsePostgresSpec(spec, '--findings')
  const pool = new pg.Pool({ connectionString, max: 2 })
  try {
    const store = await openPostgresFindingStore({
      client: pool,
      ...(schema === undefined ? {} : { schema }),
    })
    return { store, close: () => pool.end() }
  } catch (e) {
    await pool.end()
    if (e instanceof RangeError) throw new UsageError(`--findings: ${e.message}`, { cause: e })
    throw e
  }
}

/** Runs `f` on the store named by `--findings`, and closes it. */
async function withFindings<T>(
  io: CliIO,
  values: ParsedValues,
  f: (s: FindingStore) => Promise<T>,
): Promise<T> {
  const { store, close } = await openFindings(requireString(values, 'findings'), io, { create: false })
  try {
    return await f(store)
  } finally {
    await close()
  }
}

function statusLine(s: FindingStatus): string {
  const who = safeText(s.who ?? '-')
  const by = safeText(s.by ?? '-')
  const what = s.disposition ?? (s.until === undefined ? '-' : `until ${s.until}`)
  return `${s.state}\t${s.severity}\t${s.detector}\t${s.id}\t${who}\t${what}\t${by}\t${s.at}`
}

/** The record of a disposition: the finding id and what was decided, by whom (no PHI). */
function dispositionEvent(s: FindingStatus): AuditEvent {
  const what =
    s.state === 'acknowledged' ? { disposition: s.disposition as string } : { until: s.until as string }
  return {
    type: '110100', // DICOM "Application Activity" (DCM 110100)
    subtype: [s.state === 'acknowledged' ? 'finding-acknowledged' : 'finding-suppressed'],
    action: 'U',
    outcome: 0,
    agents: [runAgent(s.by), { who: REVIEW_AGENT, requestor: false, type: 'application' }],
    source: { observer: 'safeguards-cli' },
    details: { finding: s.id, detector: s.detector, ...what },
  }
}

function timeOption(values: ParsedValues, name: string): number {
  const text = requireString(values, name)
  const t = Date.parse(text)
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(t))
    throw new UsageError(`--${name} expects an ISO 8601 date-time`)
  return t
}

function dispositionOption(values: ParsedValues): Disposition {
  const d = requireString(values, 'disposition')
  if (!DISPOSITIONS.includes(d as Disposition))
    throw new UsageError(`--disposition expects one of ${DISPOSITIONS.join(', ')}`)
  return d as Disposition
}

/**
 * `audit findings list|ack|suppress`.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review; 164.308(a)(6)(ii) response and reporting.
 *
 * @throws {UsageError} for bad options (exit 2); the store's typed errors (unknown id or
 * self-review: exit 2; damaged store: exit 1).
 * @example
 * ```sh
 * safeguards audit findings ack --findings ./findings --id fnd_… --disposition appropriate --by Practitioner/po-1
 * ```
 */
export async function findings(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      ...LOG_OPTS,
      ...optionSpecs({ strings: ['findings', 'id', 'disposition', 'by', 'until'], flags: ['json', 'open'] }),
    },
    [1, 1],
  )
  const action = positionals[0]
  if (action === 'list') {
    const all = await withFindings(io, values, (s) => s.list())
    const now = Date.now()
    const shown = values.open === true ? all.filter((s) => isOpen(s, now)) : all
    if (values.json === true) writeJson(io, shown)
    else for (const s of shown) writeLine(io, statusLine(s))
    return ExitCode.OK
  }
  if (action !== 'ack' && action !== 'suppress')
    throw new UsageError('audit findings expects list, ack or suppress')
  const id = requireString(values, 'id')
  const by = requireString(values, 'by')
  // Checked before the store is opened: a bad option changes nothing.
  const disposition = action === 'ack' ? dispositionOption(values) : undefined
  const until = action === 'suppress' ? timeOption(values, 'until') : 0
  const status = await withFindings(io, values, (s) =>
    disposition === undefined ? s.suppress(id, { until, by }) : s.acknowledge(id, { disposition, by }),
  )
  if (values.json === true) writeJson(io, status)
  else writeLine(io, statusLine(status))
  const log = optionalString(values, 'log')
  if (log !== undefined) await recordRun(log, io, dispositionEvent(status))
  return ExitCode.OK
}
