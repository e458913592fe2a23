/**
 * `safeguards audit review`: the activity-review detectors of `@safeguards/monitor` over a log (or
 * the range from a seq or a time), with the findings printed one per line or as one JSON document
 * (the same bytes for the same log and rules).
 *
 * HIPAA: 164.308(a)(1)(ii)(D) information system activity review; 164.308(a)(5)(ii)(C) log-in
 * monitoring; 164.308(a)(6)(ii) identifying suspected security incidents.
 *
 * @module
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import {
  type AuditEvent,
  type AuditStore,
  type InclusionBundle,
  proveInclusions,
} from '@safeguards/audit-log'
import { isSafeguardsError } from '@safeguards/core'
import {
  defaultRules,
  type Finding,
  type FindingStore,
  followLog,
  isOpen,
  type MonitorResult,
  MonitorRulesError,
  parseRules,
  type ReviewOptions,
  type RuleSet,
  reviewLog,
  SEVERITIES,
  type Severity,
} from '@safeguards/monitor'
import { optionalString, type ParsedValues, parseCommandArgs, requireString } from '../args.js'
import type { CliIO } from '../command.js'
import { CliExit, ExitCode, UsageError } from '../errors.js'
import { optionSpecs } from '../internal/options.js'
import { safeText, writeJson, writeLine } from '../output.js'
import {
  ALERT_STRINGS,
  admitAndAlert,
  type ReviewAlerts,
  reviewAlerts,
  writeReviewGauges,
} from './audit-alerts.js'
import { type OpenedFindings, openFindings } from './audit-findings.js'
import { openLogStore } from './audit-open-log.js'
import { LOG_OPTS, nonNegative, REVIEW_AGENT, recordRun, runAgent } from './audit-shared.js'

/** The usage lines of `audit review`, for the `audit` command's usage text. */
export const REVIEW_USAGE = `  review      --log LOG [--rules FILE] [--from SEQ | --since TIME] [--by ID]
              [--json [--prove] | --follow] [--fail-on low|medium|high|critical]
              [--findings STORE [--alert-webhook URL --alert-secret-env NAME]
               [--alert-stderr] [--alert-textfile PATH]]
              Runs the activity-review detectors (failed sign-in bursts, password spray,
              bulk access, denials, off-hours, emergency access, dormant accounts,
              restricted patients) over the log, or from seq SEQ, or from the ISO 8601
              time TIME. One line per finding (severity, detector, id, who or address,
              count, seqs), or the result as JSON (the same bytes for the same log and
              rules); --prove adds an inclusion proof of every cited record against the
              newest signed checkpoint (check one with check-proof; records past it are
              listed as unproven). Damaged records are listed as verify lists them. Exit 0 nothing at
              or above --fail-on (default high) and no damaged record, 1 otherwise,
              2 usage (a rules file that does not validate names its JSON pointer) or I/O.
              --follow keeps reviewing as the log grows (the same findings as a batch
              review), printing a line when an episode opens ("open", with its final id)
              and when it closes, until SIGINT or SIGTERM; then the summary and the exit
              code as above. Each run is recorded in the log (by --by ID; the range
              covered and the findings per detector), which safeguards evidence reports.
              --findings STORE (a directory or a postgres:// URL, see audit findings)
              admits the findings to the lifecycle store and shows and alerts only the
              new ones (a re-run never alerts twice; a suppressed finding stays quiet
              until its time; --json lists their ids as "new"); the exit code then counts only findings still open (not
              acknowledged, not suppressed). Alerts, one per new finding, carry only
              { findingId, detector, severity, count, from, to }: --alert-webhook URL
              (HMAC-SHA256 signed with the hex or base64 secret, at least 32 bytes, in
              the variable named by --alert-secret-env NAME), --alert-stderr.
              --alert-textfile PATH writes Prometheus gauges (open findings by detector
              and severity, the time of the review). A failed alert is reported on
              stderr and does not change the exit code.`

function rulesFrom(io: CliIO, values: ParsedValues): RuleSet {
  const path = optionalString(values, 'rules')
  if (path === undefined) return defaultRules()
  let text: string
  try {
    text = readFileSync(resolve(io.cwd, path), 'utf8')
  } catch (e) {
    throw new UsageError('cannot read --rules', { cause: e })
  }
  try {
    return parseRules(text)
  } catch (e) {
    if (e instanceof MonitorRulesError) throw new UsageError(`--rules: ${e.message}`, { cause: e })
    throw e
  }
}

function sinceFrom(values: ParsedValues): number | undefined {
  const text = optionalString(values, 'since')
  if (text === undefined) return undefined
  const t = Date.parse(text)
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(t))
    throw new UsageError('--since expects an ISO 8601 date-time')
  return t
}

function failOn(values: ParsedValues): Severity {
  const s = optionalString(values, 'fail-on') ?? 'high'
  if (!SEVERITIES.includes(s as Severity))
    throw new UsageError(`--fail-on expects one of ${SEVERITIES.join(', ')}`)
  return s as Severity
}

/** One finding as a line: severity, detector, id, who or address, count, seqs. */
function findingLine(f: Finding): string {
  const more = f.count > f.seqs.length ? ',…' : ''
  const subject = safeText(f.who ?? f.address ?? '-')
  return `${f.severity}\t${f.detector}\t${f.id}\t${subject}\t${f.count}\tseqs ${f.seqs.join(',')}${more}`
}

function printText(io: CliIO, r: MonitorResult, shown: readonly Finding[], fresh?: number): void {
  for (const p of r.problems) writeLine(io, `${p.severity}\tseq ${p.seq}\t${p.code}\t${p.message}`)
  for (const f of shown) writeLine(io, findingLine(f))
  for (const [detector, n] of Object.entries(r.unknown.byDetector))
    writeLine(io, `unknown\t${detector}\t${n} events undecided (a resolver failed)`)
  const range = r.firstSeq === null ? 'an empty range' : `seqs ${r.firstSeq}–${r.lastSeq}`
  writeLine(
    io,
    `${r.findings.length} findings${fresh === undefined ? '' : ` (${fresh} new)`}, ${r.damaged} damaged records, over ${r.records} records (${range})`,
  )
}

/** The proofs of a result's cited records: those under the newest checkpoint, and the others. */
interface Proofs {
  /** Inclusion bundles (check one with `safeguards audit check-proof`), by ascending seq. */
  bundles: InclusionBundle[]
  /** Cited seqs past the newest checkpoint: not provable until the next one. */
  unproven: number[]
}

async function proofsOf(store: AuditStore, r: MonitorResult): Promise<Proofs> {
  const cp = (await store.readCheckpoints()).at(-1)
  if (cp === undefined) throw new UsageError('--prove: the log has no checkpoint to prove against')
  const cited = [...new Set(r.findings.flatMap((f) => f.seqs))].sort((a, b) => a - b)
  const bundles = await proveInclusions(
    store,
    cited.filter((s) => s < cp.size),
    cp,
  )
  return { bundles, unproven: cited.filter((s) => s >= cp.size) }
}

/** The findings store of a run and where its alerts go (`--findings`). */
interface Lifecycle {
  opened: OpenedFindings
  alerts: ReviewAlerts
  /** With --follow: the findings admitted as new when their episodes opened. */
  followed: Finding[]
}

/**
 * Admits a batch run's findings (alerting the new ones) and writes the gauges. Resolves with the
 * new findings and the run's findings still open (what the exit code counts).
 */
async function admitRun(
  io: CliIO,
  lifecycle: Lifecycle,
  result: MonitorResult,
  following: boolean,
): Promise<{ fresh: Finding[]; open: Finding[] }> {
  const { store } = lifecycle.opened
  // A follow run admitted each episode as it opened; its closing findings are the same ids.
  const fresh = following
    ? lifecycle.followed
    : await admitAndAlert(io, store, result.findings, lifecycle.alerts)
  const now = Date.now()
  const open = await stillOpen(store, result.findings, now)
  if (lifecycle.alerts.textfile !== undefined) await writeReviewGauges(lifecycle.alerts.textfile, store, now)
  return { fresh, open }
}

async function stillOpen(store: FindingStore, findings: readonly Finding[], now: number): Promise<Finding[]> {
  const open = new Set((await store.list()).filter((s) => isOpen(s, now)).map((s) => s.id))
  return findings.filter((f) => open.has(f.id))
}

/** Follows the log until SIGINT or SIGTERM, printing episodes as they open and close. */
async function follow(
  io: CliIO,
  store: AuditStore,
  options: ReviewOptions,
  lifecycle?: Lifecycle,
): Promise<MonitorResult> {
  const stop = new AbortController()
  let admitted: Promise<unknown> = Promise.resolve()
  const onSignal = (): void => stop.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    const result = await followLog(store, {
      ...options,
      signal: stop.signal,
      onOpen: (f) => {
        writeLine(io, `open\t${findingLine(f)}`)
        // Alerted as soon as the episode opens (its id is final), once per id across runs.
        if (lifecycle !== undefined)
          admitted = admitted
            .then(() => admitAndAlert(io, lifecycle.opened.store, [f], lifecycle.alerts))
            .then((fresh) => lifecycle.followed.push(...fresh))
      },
      onFinding: (f) => writeLine(io, findingLine(f)),
    })
    await admitted
    return result
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

/**
 * The record of a review run: who ran it, the range it covered and the findings per detector
 * (counts only). It names the agent {@link REVIEW_AGENT}, so the newest run is found by index.
 */
function reviewEvent(by: string | undefined, r: MonitorResult, logSize: number): AuditEvent {
  const byDetector: Record<string, number> = {}
  for (const f of r.findings) byDetector[f.detector] = (byDetector[f.detector] ?? 0) + 1
  return {
    type: '110112', // DICOM "Query" (DCM 110112)
    subtype: ['activity-review'],
    action: 'E',
    outcome: 0,
    agents: [runAgent(by), { who: REVIEW_AGENT, requestor: false, type: 'application' }],
    source: { observer: 'safeguards-cli' },
    details: {
      ...byDetector,
      from: r.firstSeq ?? logSize,
      through: r.lastSeq === null ? logSize : r.lastSeq + 1,
      size: logSize,
      findings: r.findings.length,
      damaged: r.damaged,
      unknown: r.unknown.total,
    },
  }
}

/**
 * `audit review`: exit 0 when nothing at or above `--fail-on` was found and no record is damaged,
 * 1 when something was, 2 on usage or I/O errors.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review; 164.308(a)(5)(ii)(C) log-in monitoring.
 *
 * @throws {UsageError} for bad options or rules, and {@link CliExit} (exit 2) when the log cannot be read.
 * @example
 * ```sh
 * safeguards audit review --log /var/lib/ehr/audit --rules rules.yaml --since 2026-12-01T00:00:00Z --json
 * ```
 */
export async function review(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    ...LOG_OPTS,
    ...optionSpecs({
      strings: ['rules', 'from', 'since', 'fail-on', 'by', 'findings', ...ALERT_STRINGS],
      flags: ['json', 'follow', 'prove', 'alert-stderr'],
    }),
  })
  const spec = requireString(values, 'log')
  const rules = rulesFrom(io, values)
  const from = nonNegative(values, 'from')
  const since = sinceFrom(values)
  if (from !== undefined && since !== undefined) throw new UsageError('--from and --since exclude each other')
  const following = values.follow === true
  if (following && values.json === true)
    throw new UsageError('--follow prints lines as episodes open and close: it excludes --json')
  if (values.prove === true && values.json !== true)
    throw new UsageError('--prove needs --json: the proof bundles are JSON')
  const threshold = SEVERITIES.indexOf(failOn(values))
  const findingsSpec = optionalString(values, 'findings')
  const alerts = reviewAlerts(io, values, findingsSpec !== undefined)
  const options: ReviewOptions = {
    rules,
    ...(from === undefined ? {} : { from }),
    ...(since === undefined ? {} : { since }),
  }
  const opened = findingsSpec === undefined ? undefined : await openFindings(findingsSpec, io)
  try {
    const lifecycle = opened === undefined ? undefined : { opened, alerts, followed: [] }
    const run = await readLog(io, spec, options, { following, prove: values.prove === true, lifecycle })
    const { result, proofs } = run
    const admitted = lifecycle === undefined ? undefined : await admitRun(io, lifecycle, result, following)
    if (values.json === true) {
      const fresh = admitted === undefined ? {} : { new: admitted.fresh.map((f) => f.id) }
      writeJson(io, { ...result, ...(proofs === undefined ? {} : { proofs }), ...fresh })
    } else
      printText(io, result, following ? [] : (admitted?.fresh ?? result.findings), admitted?.fresh.length)
    // Recorded after the findings are shown: a log that cannot take the record must not hide them.
    await recordRun(spec, io, reviewEvent(optionalString(values, 'by'), result, run.logSize))
    const counted = admitted?.open ?? result.findings
    const found = counted.some((f) => SEVERITIES.indexOf(f.severity) >= threshold)
    return found || result.damaged > 0 ? ExitCode.CHECK_FAILED : ExitCode.OK
  } finally {
    await opened?.close()
  }
}

/** What {@link readLog} read. */
interface LogRun {
  result: MonitorResult
  proofs?: Proofs
  logSize: number
}

/** Reviews (or follows) the log read-only; a log that cannot be read is exit 2. */
async function readLog(
  io: CliIO,
  spec: string,
  options: ReviewOptions,
  how: { following: boolean; prove: boolean; lifecycle: Lifecycle | undefined },
): Promise<LogRun> {
  try {
    const store = await openLogStore(spec, io, { readOnly: true })
    try {
      const result = how.following
        ? await follow(io, store, options, how.lifecycle)
        : await reviewLog(store, options)
      const proofs = how.prove ? await proofsOf(store, result) : undefined
      const logSize = (await store.head()).size
      return { result, logSize, ...(proofs === undefined ? {} : { proofs }) }
    } finally {
      await store.close()
    }
  } catch (e) {
    if (isSafeguardsError(e) && (e.category === 'io' || e.category === 'unavailable'))
      throw new CliExit(ExitCode.USAGE, `cannot read --log (${e.code})`, { cause: e })
    throw e
  }
}
