/**
 * Alert sinks: "if the backup system fails, the system must immediately alert the staff".
 *
 * An {@link Alert} carries the status, the exit code, finding codes with counts, coverage and the
 * backup's age. It never carries file names, paths or contents: names can be PHI. Built-in sinks:
 * a webhook POST signed with HMAC-SHA256, a Prometheus textfile written atomically (for
 * node_exporter's textfile collector; it is written on every run so a dead-man's-switch alert on
 * `backup_verify_last_success_timestamp_seconds` fires even when the verifier stops running), and
 * stderr. {@link sendAlerts} never throws: a failed sink is reported in its outcome, and callers
 * keep the verification's failure exit code whatever happens to the alert. The channels themselves
 * are the SDK's shared ones (`@safeguards/core/node`: `webhookChannel`, `writePrometheusTextfile`,
 * `deliverAlert`); this module builds the backup payload and metrics on them.
 *
 * @module
 */
import {
  deliverAlert,
  type PrometheusMetric,
  readPrometheusSample,
  type WebhookChannelOptions,
  webhookChannel,
  writePrometheusTextfile,
} from '@safeguards/core/node'
import { BackupAlertError } from './errors.js'
import type { VerifyReport } from './report.js'

/** An alert: codes and counts only. */
export interface Alert {
  schemaVersion: 1
  source: '@safeguards/backup'
  /** Verification status. */
  status: VerifyReport['status']
  /** The verify exit code. */
  exitCode: number
  /** When the verification finished (ISO 8601). */
  at: string
  /** Error and warning counts per finding code (no paths). */
  codes: Record<string, number>
  /** Totals. */
  counts: VerifyReport['counts']
  /** Coverage ratio of this run. */
  coverageRatio: number
  /** Newest backup timestamp (ISO) and age in seconds, when known. */
  backupTimestamp: string | null
  backupAgeSeconds: number | null
  /** True when the timestamp is from a verified signature. */
  timestampSigned: boolean
}

/** Where alerts go. */
export interface AlertSink {
  /** Short name for outcomes (no secrets: never the webhook URL). */
  name: string
  /** True: receives every run (metrics); false: only failures. */
  always: boolean
  /** Delivers; throws on failure. */
  send(alert: Alert): Promise<void>
}

/**
 * Builds the alert for a report: codes and counts, no names.
 *
 * HIPAA: 164.308(a)(7)(ii)(A) (staff alerted); 164.502(b) minimum necessary (no file names,
 * which can be PHI, leave the verifier).
 *
 * @throws never.
 * @example
 * ```ts
 * const alert = alertFromReport(report)
 * ```
 */
export function alertFromReport(report: VerifyReport): Alert {
  const codes: Record<string, number> = {}
  for (const f of report.findings) codes[f.code] = (codes[f.code] ?? 0) + 1
  return {
    schemaVersion: 1,
    source: '@safeguards/backup',
    status: report.status,
    exitCode: report.exitCode,
    at: report.finishedAt,
    codes,
    counts: { ...report.counts },
    coverageRatio: report.coverage.ratio,
    backupTimestamp: report.freshness.timestamp,
    backupAgeSeconds: report.freshness.ageMs === null ? null : Math.floor(report.freshness.ageMs / 1000),
    timestampSigned: report.freshness.signed,
  }
}

/** Options for {@link webhookSink}: those of core's `webhookChannel`. */
export type WebhookSinkOptions = WebhookChannelOptions

/**
 * A webhook sink: `POST` of the alert as JSON with `X-Safeguards-Timestamp: <unix seconds>` and
 * `X-Safeguards-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>`, plus an
 * `Idempotency-Key` that stays the same across retries. A non-2xx answer is a failure.
 *
 * HIPAA: 164.308(a)(7)(ii)(A)-(B) (staff are alerted when a backup fails); 164.312(c)(2)
 * (the receiver can authenticate the alert).
 *
 * @throws {RangeError} when the secret is shorter than 32 bytes; `TypeError` for a bad URL.
 * @example
 * ```ts
 * const sink = webhookSink('https://ops.example/hooks/backup', { secret })
 * ```
 */
export function webhookSink(url: string, options: WebhookSinkOptions): AlertSink {
  const channel = webhookChannel<Alert>(url, options)
  return {
    name: 'webhook',
    always: false,
    async send(alert: Alert): Promise<void> {
      try {
        await channel.send(alert)
      } catch (e) {
        // the backup package's own code, as before the channel moved to core
        throw new BackupAlertError(e instanceof Error ? e.message : 'webhook delivery failed', { cause: e })
      }
    },
  }
}

/**
 * A Prometheus textfile sink (node_exporter textfile collector format), replaced atomically on
 * every run. Metrics: `backup_verify_last_run_timestamp_seconds`,
 * `backup_verify_last_success_timestamp_seconds` (carried over from the previous file on failure),
 * `backup_verify_success`, `backup_verify_exit_code`, `backup_verify_findings{code}`,
 * `backup_verify_bytes_hashed`, `backup_verify_coverage_ratio`,
 * `backup_newest_timestamp_seconds` and `backup_age_seconds`.
 *
 * HIPAA: 164.308(a)(7)(ii)(A)-(B): the staff are alerted when a backup fails.
 *
 * @throws never at construction; `send` throws core's `IoError` (`ERR_IO`) when the file cannot
 *   be written (`sendAlerts` reports it as a failed sink).
 * @example
 * ```ts
 * const sink = prometheusTextfileSink('/var/lib/node_exporter/textfile/backup.prom')
 * ```
 */
export function prometheusTextfileSink(path: string, options: { job?: string } = {}): AlertSink {
  const job = (options.job ?? 'backup').replace(/[^A-Za-z0-9_.:-]/g, '_')
  return {
    name: 'prometheus',
    always: true,
    async send(alert: Alert): Promise<void> {
      const runAt = Date.parse(alert.at) / 1000
      const lastSuccess =
        alert.status === 'failed'
          ? await readPrometheusSample(path, 'backup_verify_last_success_timestamp_seconds')
          : runAt
      await writePrometheusTextfile(path, backupMetrics(alert, { job }, runAt, lastSuccess))
    },
  }
}

/** The metric families of one verification (see {@link prometheusTextfileSink}). */
function backupMetrics(
  alert: Alert,
  l: Record<string, string>,
  runAt: number,
  lastSuccess: number | undefined,
): PrometheusMetric[] {
  const gauge = (name: string, help: string, value: number | undefined, labels = l): PrometheusMetric => ({
    name,
    help,
    type: 'gauge',
    samples: value === undefined ? [] : [{ labels, value }],
  })
  const metrics = [
    gauge('backup_verify_last_run_timestamp_seconds', 'When the backup verifier last finished.', runAt),
    gauge('backup_verify_last_success_timestamp_seconds', 'When a verification last passed.', lastSuccess),
    gauge('backup_verify_success', '1 when the last verification passed.', alert.status === 'failed' ? 0 : 1),
    gauge('backup_verify_exit_code', 'Exit code of the last verification.', alert.exitCode),
    {
      name: 'backup_verify_findings',
      help: 'Findings of the last verification, by code.',
      type: 'gauge' as const,
      samples: Object.entries(alert.codes).map(([code, value]) => ({ labels: { ...l, code }, value })),
    },
    gauge('backup_verify_bytes_hashed', 'Bytes hashed by the last verification.', alert.counts.bytesHashed),
    gauge(
      'backup_verify_coverage_ratio',
      'Share of payload files hashed by the last verification.',
      alert.coverageRatio,
    ),
  ]
  if (alert.backupTimestamp !== null)
    metrics.push(
      gauge(
        'backup_newest_timestamp_seconds',
        'Creation time of the verified backup (signed when available).',
        Date.parse(alert.backupTimestamp) / 1000,
        { ...l, signed: String(alert.timestampSigned) },
      ),
    )
  if (alert.backupAgeSeconds !== null)
    metrics.push(
      gauge('backup_age_seconds', 'Age of the verified backup at verification time.', alert.backupAgeSeconds),
    )
  return metrics
}

/**
 * A sink that writes one line (status, exit code, codes with counts) through `write`, for cron
 * mail and journald.
 *
 * HIPAA: 164.308(a)(7)(ii)(A)-(B): the staff are alerted when a backup fails.
 *
 * @throws never at construction.
 * @example
 * ```ts
 * const sink = stderrSink((line) => process.stderr.write(line))
 * ```
 */
export function stderrSink(write: (line: string) => void): AlertSink {
  return {
    name: 'stderr',
    always: false,
    async send(alert: Alert): Promise<void> {
      const codes = Object.entries(alert.codes)
        .map(([c, n]) => `${c}=${n}`)
        .join(' ')
      write(`backup verification ${alert.status} (exit ${alert.exitCode}) ${codes}\n`)
    },
  }
}

/** What {@link sendAlerts} did. */
export interface AlertOutcome {
  delivered: string[]
  failed: { sink: string; code: string; message: string }[]
}

/**
 * Sends `alert` to every sink that wants it (all sinks on failure; `always` sinks on every run),
 * concurrently. Never throws.
 *
 * HIPAA: 164.308(a)(7)(ii)(A)-(B), 164.308(a)(1)(ii)(D) information system activity review.
 *
 * @example
 * ```ts
 * const outcome = await sendAlerts(alertFromReport(report), [webhook, prom, stderr])
 * if (outcome.failed.length > 0) process.exitCode = report.exitCode || 1
 * ```
 */
export async function sendAlerts(alert: Alert, sinks: readonly AlertSink[]): Promise<AlertOutcome> {
  const chosen = sinks.filter((s) => s.always || alert.status === 'failed')
  const delivery = await deliverAlert(alert, chosen)
  return {
    delivered: delivery.delivered,
    failed: delivery.failed.map((f) => ({ sink: f.channel, code: f.code, message: f.message })),
  }
}
