/**
 * Alert channels shared by the packages that must tell staff something went wrong (a backup that
 * failed its verification, suspicious activity the monitor found): a webhook signed with
 * HMAC-SHA256, a Prometheus textfile for node_exporter, and a line writer (stderr, cron mail,
 * journald). Each package builds its own payload (codes, counts and identifiers only, never PHI:
 * chat and e-mail are outside a business associate agreement) and delivers it with {@link deliverAlert},
 * which never throws.
 *
 * @module
 */
import { readFile } from 'node:fs/promises'
import { bytesToHex, utf8Encode } from '../bytes.js'
import type { Clock } from '../clock.js'
import { systemClock } from '../clock.js'
import { SafeguardsError } from '../errors.js'
import { type RandomSource, randomBytes } from '../random.js'
import { webhookSignature } from '../webhook-signature.js'
import { writeFileAtomic } from './atomic-write.js'
import { errorCode } from './error-code.js'

/** Where an alert goes. */
export interface AlertChannel<T> {
  /** A short name for outcomes (never a secret: not the webhook URL). */
  readonly name: string
  /** Delivers `payload`; throws when it could not. */
  send(payload: T): Promise<void>
}

/**
 * A channel could not deliver (a webhook that kept failing). The message names the last HTTP status
 * or error name, never the URL or the payload.
 *
 * @example
 * ```ts
 * await channel.send(alert) // throws AlertDeliveryError (ERR_ALERT_DELIVERY) after the last attempt
 * ```
 */
export class AlertDeliveryError extends SafeguardsError<'ERR_ALERT_DELIVERY'> {
  /** @param message - safe text (a status, an error name); @param options - the cause. */
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_ALERT_DELIVERY', message, { ...options, category: 'unavailable' })
  }
}

/** Options for {@link webhookChannel}. */
export interface WebhookChannelOptions {
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
 * A webhook channel: `POST` of the payload as JSON with `X-Safeguards-Timestamp: <unix seconds>`,
 * `X-Safeguards-Signature` ({@link webhookSignature}) and an `Idempotency-Key` that stays the same
 * across retries, so the receiver can drop duplicates. A non-2xx answer is a failure; redirects are
 * refused (a redirect could carry the alert elsewhere).
 *
 * HIPAA: 164.308(a)(1)(ii)(D) and 164.308(a)(6)(ii) (staff learn of incidents), 164.312(c)(2) (the
 * receiver can authenticate the alert).
 *
 * @throws {RangeError} when the secret is shorter than 32 bytes; `TypeError` for a bad URL.
 * @example
 * ```ts
 * const channel = webhookChannel('https://ops.example/hooks/safeguards', { secret })
 * await deliverAlert({ finding: 'fnd_…', severity: 'high' }, [channel])
 * ```
 */
export function webhookChannel<T>(url: string, options: WebhookChannelOptions): AlertChannel<T> {
  const target = new URL(url)
  if (target.protocol !== 'https:' && target.protocol !== 'http:')
    throw new TypeError('"url" must be http(s)')
  if (!(options.secret instanceof Uint8Array)) throw new TypeError('"secret" expected Uint8Array')
  if (options.secret.length < 32) throw new RangeError('"secret" expected at least 32 bytes')
  const secret = options.secret.slice()
  const clock = options.clock ?? systemClock
  const random = options.random ?? randomBytes
  const doFetch = options.fetch ?? fetch
  const attempts = options.attempts ?? 3
  const timeoutMs = options.timeoutMs ?? 10_000
  return {
    name: 'webhook',
    async send(payload: T): Promise<void> {
      const body = JSON.stringify(payload)
      const timestamp = String(Math.floor(clock.now() / 1000))
      const headers = {
        'content-type': 'application/json',
        'x-safeguards-timestamp': timestamp,
        'x-safeguards-signature': webhookSignature(secret, timestamp, body),
        'idempotency-key': bytesToHex(random(16)),
      }
      let last = 'no attempt'
      for (let attempt = 0; attempt < attempts; attempt++) {
        try {
          const init = { method: 'POST', headers, body, redirect: 'error' as const }
          const res = await doFetch(target, { ...init, signal: AbortSignal.timeout(timeoutMs) })
          await res.arrayBuffer().catch(() => undefined)
          if (res.ok) return
          last = `HTTP ${res.status}`
        } catch (error) {
          last = error instanceof Error ? error.name : 'error' // TypeError, AbortError, TimeoutError
        }
      }
      throw new AlertDeliveryError(`webhook delivery failed (${last})`)
    },
  }
}

/** One Prometheus metric family for {@link writePrometheusTextfile}. */
export interface PrometheusMetric {
  /** The metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`). */
  name: string
  /** One line of help text. */
  help: string
  /** The metric type. */
  type: 'gauge' | 'counter'
  /** The samples: label values and a number each. */
  samples: readonly { labels: Readonly<Record<string, string>>; value: number }[]
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/** A label value in the text exposition format: backslash, double quote and newline escaped. */
function labelValue(v: string): string {
  return v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')
}

/**
 * The Prometheus text exposition format of `metrics` (HELP, TYPE, one line per sample).
 *
 * HIPAA: 164.308(a)(1)(ii)(D) (activity that staff can watch and alert on).
 *
 * @throws {TypeError} for a metric or label name the format does not allow.
 * @example
 * ```ts
 * prometheusText([{ name: 'up', help: 'Up.', type: 'gauge', samples: [{ labels: {}, value: 1 }] }])
 * // '# HELP up Up.\n# TYPE up gauge\nup 1\n'
 * ```
 */
export function prometheusText(metrics: readonly PrometheusMetric[]): string {
  const lines: string[] = []
  for (const m of metrics) {
    if (!METRIC_NAME.test(m.name)) throw new TypeError('"name" is not a Prometheus metric name')
    lines.push(
      `# HELP ${m.name} ${m.help.replaceAll('\\', '\\\\').replaceAll('\n', '\\n')}`,
      `# TYPE ${m.name} ${m.type}`,
    )
    for (const s of m.samples) {
      const labels = Object.entries(s.labels).map(([k, v]) => {
        if (!LABEL_NAME.test(k)) throw new TypeError('a label name is not a Prometheus label name')
        return `${k}="${labelValue(v)}"`
      })
      lines.push(`${m.name}${labels.length === 0 ? '' : `{${labels.join(',')}}`} ${s.value}`)
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`
}

/**
 * Replaces a node_exporter textfile atomically (temp file, fsync, rename, fsync the directory), mode
 * 0644 so the collector can read it. A scrape never sees half a file.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) (activity that staff can watch and alert on).
 *
 * @throws {TypeError} for a bad metric or label name. @throws {IoError} when the file cannot be written.
 * @example
 * ```ts
 * await writePrometheusTextfile('/var/lib/node_exporter/textfile/monitor.prom', metrics)
 * ```
 */
export async function writePrometheusTextfile(
  path: string,
  metrics: readonly PrometheusMetric[],
): Promise<void> {
  await writeFileAtomic(path, utf8Encode(prometheusText(metrics)), { mode: 0o644 })
}

/**
 * The value of the first sample of `name` in an existing textfile, or undefined when the file or the
 * metric is absent (for a gauge carried over between runs, such as a last-success timestamp).
 *
 * HIPAA: 164.308(a)(1)(ii)(D).
 *
 * @throws never.
 * @example
 * ```ts
 * const last = await readPrometheusSample(path, 'backup_verify_last_success_timestamp_seconds')
 * ```
 */
export async function readPrometheusSample(path: string, name: string): Promise<number | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch {
    return undefined
  }
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const m = /^[a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})? (-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)$/.exec(line)
    if (m !== null && (line[name.length] === '{' || line[name.length] === ' ')) return Number(m[1])
  }
  return undefined
}

/** What {@link deliverAlert} did: the channels that took the alert, and those that failed, by code. */
export interface AlertDelivery {
  /** Names of the channels that delivered. */
  delivered: string[]
  /** Channels that failed: name, error code, and a safe message. */
  failed: { channel: string; code: string; message: string }[]
}

/**
 * Sends `payload` to every channel concurrently and reports what happened. Never throws: an alert
 * that cannot be delivered must not turn a finding into a crash (the caller keeps its own exit code).
 * A failure's message is the SDK error's own (safe by construction) or `delivery failed`.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) information system activity review, 164.308(a)(6)(ii) response and
 * reporting.
 *
 * @example
 * ```ts
 * const outcome = await deliverAlert(alert, [webhookChannel(url, { secret }), lineChannel(write, format)])
 * if (outcome.failed.length > 0) process.exitCode ||= 1
 * ```
 */
export async function deliverAlert<T>(
  payload: T,
  channels: readonly AlertChannel<T>[],
): Promise<AlertDelivery> {
  const results = await Promise.allSettled(channels.map((c) => c.send(payload)))
  const outcome: AlertDelivery = { delivered: [], failed: [] }
  results.forEach((r, i) => {
    const channel = (channels[i] as AlertChannel<T>).name
    if (r.status === 'fulfilled') outcome.delivered.push(channel)
    else
      outcome.failed.push({
        channel,
        code: errorCode(r.reason) ?? 'ERR_ALERT_DELIVERY',
        message: r.reason instanceof SafeguardsError ? r.reason.message : 'delivery failed',
      })
  })
  return outcome
}

/**
 * A channel that writes one line per alert through `write` (stderr, cron mail, journald).
 *
 * HIPAA: 164.308(a)(1)(ii)(D) (staff learn of what was found).
 *
 * @param write - where the line goes, for example `(l) => process.stderr.write(l)`.
 * @param format - the line for a payload (codes and counts only; a newline is added).
 * @example
 * ```ts
 * const stderr = lineChannel((l) => process.stderr.write(l), (a: { status: string }) => `backup ${a.status}`)
 * ```
 */
export function lineChannel<T>(
  write: (line: string) => void,
  format: (payload: T) => string,
): AlertChannel<T> {
  return {
    name: 'stderr',
    async send(payload: T): Promise<void> {
      write(`${format(payload)}\n`)
    },
  }
}
