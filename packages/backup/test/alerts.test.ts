import { readdirSync, readFileSync, unlinkSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { manualClock } from '@safeguards/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  alertFromReport,
  prometheusTextfileSink,
  sendAlerts,
  stderrSink,
  verifyBag,
  verifyWebhookSignature,
  webhookSink,
} from '../src/index.js'
import { signedBag, T0, tempDir } from './helpers.js'

interface Received {
  headers: IncomingMessage['headers']
  body: string
}

let server: Server
let url = ''
const received: Received[] = []
let answer = 204

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Uint8Array[] = []
    req.on('data', (c: Uint8Array) => chunks.push(c))
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      res.statusCode = answer
      res.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/backup`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

const secret = new Uint8Array(32).fill(7)

async function failedReport() {
  const { bag, publicKeys } = await signedBag({ 'patients/Jane Doe 1970-01-01.csv': 'mrn,name\n1,Jane\n' })
  unlinkSync(join(bag, 'data/patients/Jane Doe 1970-01-01.csv'))
  const { report } = await verifyBag(bag, { publicKeys, clock: manualClock(T0 + 60_000) })
  expect(report.exitCode).toBe(1)
  return report
}

describe('alerts', () => {
  it('carry codes and counts, never file names', async () => {
    const report = await failedReport()
    const alert = alertFromReport(report)
    expect(alert).toMatchObject({ status: 'failed', exitCode: 1, codes: { E_MISSING: 1 } })
    expect(JSON.stringify(alert)).not.toContain('Jane')
    expect(JSON.stringify(alert)).not.toContain('patients')
    // The report itself does name the file (for the operator).
    expect(JSON.stringify(report)).toContain('Jane Doe')
  })

  it('webhook: POSTs to a local server with an HMAC the receiver can verify', async () => {
    received.length = 0
    answer = 204
    const report = await failedReport()
    const sink = webhookSink(url, { secret, clock: manualClock(T0 + 61_000) })
    const outcome = await sendAlerts(alertFromReport(report), [sink])
    expect(outcome).toEqual({ delivered: ['webhook'], failed: [] })
    expect(received).toHaveLength(1)
    const got = received[0] as Received
    expect(got.headers['content-type']).toBe('application/json')
    expect(got.body).not.toContain('Jane')
    const ts = got.headers['x-safeguards-timestamp'] as string
    const sig = got.headers['x-safeguards-signature'] as string
    expect(verifyWebhookSignature(secret, ts, sig, got.body, T0 + 61_000)).toBe(true)
    expect(verifyWebhookSignature(secret, ts, sig, `${got.body} `, T0 + 61_000)).toBe(false)
    expect(verifyWebhookSignature(new Uint8Array(32), ts, sig, got.body, T0 + 61_000)).toBe(false)
    expect(verifyWebhookSignature(secret, ts, sig, got.body, T0 + 3_600_000)).toBe(false) // replayed later
    expect(JSON.parse(got.body)).toMatchObject({ status: 'failed', codes: { E_MISSING: 1 } })
  })

  it('webhook: a 500 is retried with the same idempotency key, then reported as failed', async () => {
    received.length = 0
    answer = 500
    const report = await failedReport()
    const outcome = await sendAlerts(alertFromReport(report), [webhookSink(url, { secret, attempts: 2 })])
    expect(outcome.delivered).toEqual([])
    expect(outcome.failed).toEqual([
      { sink: 'webhook', code: 'ERR_BACKUP_ALERT', message: 'webhook delivery failed (HTTP 500)' },
    ])
    expect(received).toHaveLength(2)
    expect(received[0]?.headers['idempotency-key']).toBe(received[1]?.headers['idempotency-key'])
    answer = 204
  })

  it('webhook: an unreachable endpoint fails without throwing', async () => {
    const report = await failedReport()
    const sink = webhookSink('http://127.0.0.1:9/none', { secret, attempts: 1, timeoutMs: 2000 })
    const outcome = await sendAlerts(alertFromReport(report), [sink])
    expect(outcome.failed.map((f) => f.sink)).toEqual(['webhook'])
  })

  it('webhook: refuses short secrets and non-http URLs', () => {
    expect(() => webhookSink(url, { secret: new Uint8Array(16) })).toThrow(RangeError)
    expect(() => webhookSink('file:///etc/passwd', { secret })).toThrow(TypeError)
  })

  it('a passing run alerts only the metrics sink', async () => {
    received.length = 0
    const { bag, publicKeys } = await signedBag()
    const { report } = await verifyBag(bag, { publicKeys, clock: manualClock(T0 + 1000) })
    const dir = tempDir('prom')
    const lines: string[] = []
    const outcome = await sendAlerts(alertFromReport(report), [
      webhookSink(url, { secret }),
      prometheusTextfileSink(join(dir, 'backup.prom')),
      stderrSink((l) => lines.push(l)),
    ])
    expect(outcome.delivered).toEqual(['prometheus'])
    expect(received).toHaveLength(0)
    expect(lines).toEqual([])
  })

  it('prometheus: written atomically, last success carried over a failure', async () => {
    const dir = tempDir('prom')
    const path = join(dir, 'backup.prom')
    const { bag, publicKeys } = await signedBag()
    const ok = await verifyBag(bag, { publicKeys, maxAgeMs: 86_400_000, clock: manualClock(T0 + 1000) })
    await sendAlerts(alertFromReport(ok.report), [prometheusTextfileSink(path)])
    const first = readFileSync(path, 'utf8')
    expect(first).toContain(
      `backup_verify_last_success_timestamp_seconds{job="backup"} ${(T0 + 1000) / 1000}`,
    )
    expect(first).toContain('backup_verify_success{job="backup"} 1')
    expect(first).toContain(`backup_newest_timestamp_seconds{job="backup",signed="true"} ${T0 / 1000}`)
    expect(first).toContain('backup_age_seconds{job="backup"} 1')
    const bad = await failedReport()
    await sendAlerts(alertFromReport(bad), [prometheusTextfileSink(path)])
    const second = readFileSync(path, 'utf8')
    expect(second).toContain('backup_verify_success{job="backup"} 0')
    expect(second).toContain('backup_verify_exit_code{job="backup"} 1')
    expect(second).toContain('backup_verify_findings{job="backup",code="E_MISSING"} 1')
    expect(second).toContain(
      `backup_verify_last_success_timestamp_seconds{job="backup"} ${(T0 + 1000) / 1000}`,
    )
    expect(second).not.toContain('Jane')
    expect(readdirSync(dir)).toEqual(['backup.prom']) // no temporary files left behind
  })

  it('prometheus: an unwritable path is a failed sink, not an exception', async () => {
    const report = await failedReport()
    const lines: string[] = []
    const outcome = await sendAlerts(alertFromReport(report), [
      prometheusTextfileSink('/nonexistent-dir/backup.prom'),
      stderrSink((l) => lines.push(l)),
    ])
    expect(outcome.failed.map((f) => f.sink)).toEqual(['prometheus'])
    expect(outcome.delivered).toEqual(['stderr'])
    expect(lines[0]).toBe('backup verification failed (exit 1) E_MISSING=1\n')
  })
})
