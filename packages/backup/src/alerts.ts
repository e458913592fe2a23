/**
 * Alert sinks: "if the backup system fails, the system must immediately alert the staff".
 *
 * An {@link Alert} carries the status, the exit code, finding codes with counts, coverage and the
 * backup's age. It never carries file names, paths or contents: names can be PHI. Built-in sinks:
 * a webhook POST signed with HMAC-SHA256, a Prometheus textfile written atomically (for
 * node_exporter's textfile collector; it is written on every run so a dead-man's-switch alert on
 * `backup_verify_last_success_timestamp_seconds` fires even when the verifier stops running), and
 * stderr. {@link sendAlerts} never throws: a failed sink is reported in its outcome, and callers
 * keep the verification's failure exit code whatever happens to the alert.
 *
 * @module
 */
import { readFile } from 'node:fs/promises'
import {
  bytesToHex,
  type Clock,
  hmac,
  type RandomSource,
  randomBytes,
  systemClock,
  timingSafeEqual,
  utf8Encode,
} from '@safeguards/core'
import { errorCode, writeFileAtomic } from '@safeguards/core/node'
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

/** Options for {@link webhookSink}. */
export interface WebhookSinkOptions {
  /** HMAC key (at least 32 bytes). */
  secret: Uint8Array
  /** Per-attempt timeout (default 10 s). */
  timeoutMs?: number
  /** Attempts (default 3). */
  attempts?: number
  /** Clock for the timestamp header. */
  clock?: Clock
  /** Randomness for the idempotency key. */
  random?: RandomSource
  /** `fetch` implementation (default: the global one). */
  fetch?: typeof fetch
}

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
  const target = new URL(url)
  if (target.protocol !== 'https:' && target.protocol !== 'http:')
    throw new TypeError('"url" must be http(s)')
  if (!(options.secret instanceof Uint8Array)) throw new TypeError('"secret" expected Uint8Array')
  if (options.secret.length < 32) throw new RangeError('"secret" expected at least 32 bytes')
  const secret = options.secret.slice()
  const clock = options.clock ?? systemClock
  const random = options.random ?? randomBytes
  const doFetch = options.fetch ?? fetch
  return {
    name: 'webhook',
    always: false,
    async send(alert: Alert): Promise<void> {
      const body = JSON.stringify(alert)
      const timestamp = String(Math.floor(clock.now() / 1000))
      const signature = bytesToHex(hmac('sha256', secret, utf8Encode(`${timestamp}.${body}`)))
      const idempotencyKey = bytesToHex(random(16))
      let last = 'no attempt'
      for (let attempt = 0; attempt < (options.attempts ?? 3); attempt++) {
        try {
          const res = await doFetch(target, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'x-safeguards-timestamp': timestamp,
              'x-safeguards-signature': `v1=${signature}`,
              'idempotency-key': idempotencyKey,
            },
            body,
            redirect: 'error',
            signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
          })
          await res.arrayBuffer().catch(() => undefined)
          if (res.ok) return
          last = `HTTP ${res.status}`
        } catch (error) {
          last = (error as { name?: string }).name ?? 'error'
        }
      }
      throw new BackupAlertError(`webhook delivery failed (${last})`)
    },
  }
}

/**
 * Verifies a webhook alert on the receiving side: recomputes the HMAC over `timestamp.body` and
 * compares in constant time; rejects timestamps older than `toleranceMs` (replay).
 *
 * HIPAA: 164.308(a)(7)(ii)(A)-(B): the staff are alerted when a backup fails.
 *
 * @throws never; returns false for any mismatch.
 * @example
 * ```ts
 * verifyWebhookSignature(secret, req.headers['x-safeguards-timestamp'], req.headers['x-safeguards-signature'], rawBody, Date.now())
 * ```
 */
export function verifyWebhookSignature(
  secret: Uint8Array,
  timestamp: string | undefined,
  signature: string | undefined,
  body: string,
  nowMs: number,
  toleranceMs: number = 5 * 60_000,
): boolean {
  if (typeof timestamp !== 'string' || typeof signature !== 'string' || !/^\d{1,12}$/.test(timestamp))
    return false
  if (Math.abs(nowMs - Number(timestamp) * 1000) > toleranceMs) return false
  const expected = `v1=${bytesToHex(hmac('sha256', secret, utf8Encode(`${timestamp}.${body}`)))}`
  return timingSafeEqual(utf8Encode(expected), utf8Encode(signature))
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
      let lastSuccess: number | null = alert.status === 'failed' ? null : runAt
      if (lastSuccess === null) {
        try {
          const old = await readFile(path, 'utf8')
          const m = /^backup_verify_last_success_timestamp_seconds\{[^}]*\} (\d+(?:\.\d+)?)$/m.exec(old)
          if (m) lastSuccess = Number(m[1])
        } catch {
          // no previous file
        }
      }
      const l = `job="${job}"`
      const lines = [
        '# HELP backup_verify_last_run_timestamp_seconds When the backup verifier last finished.',
        '# TYPE backup_verify_last_run_timestamp_seconds gauge',
        `backup_verify_last_run_timestamp_seconds{${l}} ${runAt}`,
        '# HELP backup_verify_last_success_timestamp_seconds When a verification last passed.',
        '# TYPE backup_verify_last_success_timestamp_seconds gauge',
        ...(lastSuccess === null
          ? []
          : [`backup_verify_last_success_timestamp_seconds{${l}} ${lastSuccess}`]),
        '# HELP backup_verify_success 1 when the last verification passed.',
        '# TYPE backup_verify_success gauge',
        `backup_verify_success{${l}} ${alert.status === 'failed' ? 0 : 1}`,
        '# HELP backup_verify_exit_code Exit code of the last verification.',
        '# TYPE backup_verify_exit_code gauge',
        `backup_verify_exit_code{${l}} ${alert.exitCode}`,
        '# HELP backup_verify_findings Findings of the last verification, by code.',
        '# TYPE backup_verify_findings gauge',
        ...Object.entries(alert.codes).map(([code, n]) => `backup_verify_findings{${l},code="${code}"} ${n}`),
        '# HELP backup_verify_bytes_hashed Bytes hashed by the last verification.',
        '# TYPE backup_verify_bytes_hashed gauge',
        `backup_verify_bytes_hashed{${l}} ${alert.counts.bytesHashed}`,
        '# HELP backup_verify_coverage_ratio Share of payload files hashed by the last verification.',
        '# TYPE backup_verify_coverage_ratio gauge',
        `backup_verify_coverage_ratio{${l}} ${alert.coverageRatio}`,
      ]
      if (alert.backupTimestamp !== null) {
        lines.push(
          '# HELP backup_newest_timestamp_seconds Creation time of the verified backup (signed when available).',
          '# TYPE backup_newest_timestamp_seconds gauge',
          `backup_newest_timestamp_seconds{${l},signed="${alert.timestampSigned}"} ${Date.parse(alert.backupTimestamp) / 1000}`,
        )
      }
      if (alert.backupAgeSeconds !== null) {
        lines.push(
          '# HELP backup_age_seconds Age of the verified backup at verification time.',
          '# TYPE backup_age_seconds gauge',
          `backup_age_seconds{${l}} ${alert.backupAgeSeconds}`,
        )
      }
      // Readable by node_exporter (0644), as the textfile collector needs.
      await writeFileAtomic(path, utf8Encode(`${lines.join('\n')}\n`), { mode: 0o644 })
    },
  }
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
  const results = await Promise.allSettled(chosen.map((s) => s.send(alert)))
  const outcome: AlertOutcome = { delivered: [], failed: [] }
  results.forEach((r, i) => {
    const name = (chosen[i] as AlertSink).name
    if (r.status === 'fulfilled') outcome.delivered.push(name)
    else {
      outcome.failed.push({
        sink: name,
        code: errorCode(r.reason) ?? 'ERR_BACKUP_ALERT',
        message: r.reason instanceof BackupAlertError ? r.reason.message : 'delivery failed',
      })
    }
  })
  return outcome
}
