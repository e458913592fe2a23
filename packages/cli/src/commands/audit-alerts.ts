/**
 * Alerts of `safeguards audit review --findings`: the run's findings are admitted to the findings
 * store and only the new ones are alerted, through core's shared channels (signed webhook, stderr),
 * with a payload of ids, codes, counts and times only (no who, no patients: chat and e-mail are
 * outside a business associate agreement). `--alert-textfile` writes Prometheus gauges of the open
 * findings by detector and severity, and the time of the review.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) information system activity review; 164.308(a)(6)(ii) response and
 * reporting.
 *
 * @module
 */
import { resolve } from 'node:path'
import { base64ToBytes, hexToBytes } from '@safeguards/core'
import {
  type AlertChannel,
  deliverAlert,
  lineChannel,
  type PrometheusMetric,
  webhookChannel,
  writePrometheusTextfile,
} from '@safeguards/core/node'
import { type Finding, type FindingStore, isOpen } from '@safeguards/monitor'
import { optionalString, type ParsedValues } from '../args.js'
import type { CliIO } from '../command.js'
import { UsageError } from '../errors.js'

/** What an alert carries: identifiers, codes, a count and times. Never who or patients. */
export interface FindingAlert {
  findingId: string
  detector: string
  severity: string
  count: number
  from: string
  to: string
}

/** Where the review's alerts go. */
export interface ReviewAlerts {
  channels: AlertChannel<FindingAlert>[]
  /** The Prometheus textfile, when asked for. */
  textfile?: string
}

/** The alert options `audit review` takes. */
export const ALERT_STRINGS: readonly string[] = ['alert-webhook', 'alert-secret-env', 'alert-textfile']

function secretFrom(io: CliIO, values: ParsedValues): Uint8Array {
  const name = optionalString(values, 'alert-secret-env')
  if (name === undefined) throw new UsageError('--alert-webhook needs --alert-secret-env NAME')
  const text = io.env[name]?.trim()
  if (text === undefined || text === '') throw new UsageError('--alert-secret-env names an empty variable')
  let secret: Uint8Array
  try {
    secret = /^(?:[0-9a-fA-F]{2})+$/.test(text) ? hexToBytes(text.toLowerCase()) : base64ToBytes(text)
  } catch (e) {
    throw new UsageError('the --alert-secret-env value is neither hex nor base64', { cause: e })
  }
  if (secret.length < 32) throw new UsageError('the --alert-secret-env value must hold at least 32 bytes')
  return secret
}

/**
 * The alert channels and textfile from the command line.
 *
 * @throws {UsageError} for a webhook without a usable secret, a bad URL, or alerts without `--findings`.
 * @example
 * ```ts
 * const alerts = reviewAlerts(io, values, findingsSpec !== undefined)
 * ```
 */
export function reviewAlerts(io: CliIO, values: ParsedValues, hasStore: boolean): ReviewAlerts {
  const channels: AlertChannel<FindingAlert>[] = []
  const webhook = optionalString(values, 'alert-webhook')
  if (webhook !== undefined) {
    const secret = secretFrom(io, values)
    try {
      channels.push(webhookChannel<FindingAlert>(webhook, { secret }))
    } catch {
      throw new UsageError('--alert-webhook expects an http(s) URL')
    } finally {
      secret.fill(0)
    }
  } else if (optionalString(values, 'alert-secret-env') !== undefined)
    throw new UsageError('--alert-secret-env is only for --alert-webhook')
  if (values['alert-stderr'] === true)
    channels.push(
      lineChannel(
        (line) => io.stderr.write(line),
        (a: FindingAlert) =>
          `safeguards audit review: alert ${a.severity} ${a.detector} ${a.findingId} count ${a.count} ${a.from}..${a.to}`,
      ),
    )
  const textfile = optionalString(values, 'alert-textfile')
  if ((channels.length > 0 || textfile !== undefined) && !hasStore)
    throw new UsageError('alerts need --findings STORE (so a finding is alerted once)')
  return { channels, ...(textfile === undefined ? {} : { textfile: resolve(io.cwd, textfile) }) }
}

/**
 * Admits `findings` and alerts the new ones (one alert each, in order). A channel that fails is
 * reported on stderr and changes nothing else. Resolves with the new findings.
 *
 * @throws whatever the store throws.
 * @example
 * ```ts
 * const fresh = await admitAndAlert(io, store, result.findings, alerts)
 * ```
 */
export async function admitAndAlert(
  io: CliIO,
  store: FindingStore,
  findings: readonly Finding[],
  alerts: ReviewAlerts,
): Promise<Finding[]> {
  const fresh = await store.admit(findings)
  if (alerts.channels.length === 0) return fresh
  for (const f of fresh) {
    const payload: FindingAlert = {
      findingId: f.id,
      detector: f.detector,
      severity: f.severity,
      count: f.count,
      from: f.from,
      to: f.to,
    }
    const outcome = await deliverAlert(payload, alerts.channels)
    for (const x of outcome.failed)
      io.stderr.write(
        `safeguards audit review: alert channel ${x.channel} failed: ${x.message} (${x.code})\n`,
      )
  }
  return fresh
}

/**
 * Writes the gauges: open findings by detector and severity, and the review's time.
 *
 * @throws {IoError} when the textfile cannot be written; whatever the store throws.
 * @example
 * ```ts
 * await writeReviewGauges('/var/lib/node_exporter/textfile/review.prom', store, Date.now())
 * ```
 */
export async function writeReviewGauges(path: string, store: FindingStore, now: number): Promise<void> {
  const counts = new Map<string, { detector: string; severity: string; n: number }>()
  for (const s of await store.list()) {
    if (!isOpen(s, now)) continue
    const key = `${s.detector}\t${s.severity}`
    const c = counts.get(key) ?? { detector: s.detector, severity: s.severity, n: 0 }
    c.n++
    counts.set(key, c)
  }
  const open = [...counts.values()].sort((a, b) =>
    a.detector === b.detector ? (a.severity < b.severity ? -1 : 1) : a.detector < b.detector ? -1 : 1,
  )
  const metrics: PrometheusMetric[] = [
    {
      name: 'safeguards_review_open_findings',
      help: 'Open review findings (new, or suppression passed), by detector and severity.',
      type: 'gauge',
      samples: open.map((c) => ({ labels: { detector: c.detector, severity: c.severity }, value: c.n })),
    },
    {
      name: 'safeguards_review_last_run_timestamp_seconds',
      help: 'When the activity review last ran (Unix time).',
      type: 'gauge',
      samples: [{ labels: {}, value: Math.floor(now / 1000) }],
    },
  ]
  await writePrometheusTextfile(path, metrics)
}
