import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { useWebhookReceiver } from '../../../scripts/test-support/webhook-receiver.js'
import { manualClock, verifyWebhookSignature, webhookSignature } from '../src/index.js'
import {
  type AlertChannel,
  deliverAlert,
  lineChannel,
  prometheusText,
  readPrometheusSample,
  webhookChannel,
  writePrometheusTextfile,
} from '../src/node/index.js'

const { received, answers, url } = useWebhookReceiver()

const secret = new Uint8Array(32).fill(9)
const T = 1_767_225_600_000

describe('webhookChannel', () => {
  it('POSTs the payload signed, retries with the same idempotency key, and fails with ERR_ALERT_DELIVERY', async () => {
    received.length = 0
    answers.push(500, 503, 204)
    const channel = webhookChannel<{ finding: string }>(url('/hook'), { secret, clock: manualClock(T) })
    await channel.send({ finding: 'fnd_1' })
    expect(received).toHaveLength(3)
    const keys = new Set(received.map((r) => r.headers['idempotency-key']))
    expect(keys.size).toBe(1)
    const last = received[2]!
    expect(JSON.parse(last.body)).toEqual({ finding: 'fnd_1' })
    const ts = last.headers['x-safeguards-timestamp'] as string
    expect(ts).toBe(String(T / 1000))
    expect(last.headers['x-safeguards-signature']).toBe(webhookSignature(secret, ts, last.body))
    expect(
      verifyWebhookSignature(secret, ts, last.headers['x-safeguards-signature'] as string, last.body, T),
    ).toBe(true)
    expect(
      verifyWebhookSignature(secret, ts, webhookSignature(secret, ts, `${last.body} `), last.body, T),
    ).toBe(false)
    expect(verifyWebhookSignature(secret, ts, 'v1=00', last.body, T + 10 * 60_000)).toBe(false)

    answers.push(500, 500)
    const two = webhookChannel(url('/hook'), { secret, attempts: 2 })
    await expect(two.send({})).rejects.toMatchObject({
      code: 'ERR_ALERT_DELIVERY',
      category: 'unavailable',
      message: 'webhook delivery failed (HTTP 500)',
    })
  })

  it('refuses a redirect (the alert must not go elsewhere), and bad URLs or short secrets at construction', async () => {
    received.length = 0
    answers.push(302, 302, 302)
    await expect(webhookChannel(url('/hook'), { secret }).send({})).rejects.toMatchObject({
      code: 'ERR_ALERT_DELIVERY',
    })
    expect(received.every((r) => r.path === '/hook')).toBe(true)
    expect(() => webhookChannel('ftp://example.com/', { secret })).toThrow(TypeError)
    expect(() => webhookChannel(url('/hook'), { secret: new Uint8Array(31) })).toThrow(RangeError)
  })
})

describe('Prometheus textfile', () => {
  it('writes the exposition format, escaping label values, and refuses names it does not allow', () => {
    expect(
      prometheusText([
        {
          name: 'monitor_findings',
          help: 'Open findings.',
          type: 'gauge',
          samples: [{ labels: { detector: 'a"b\\c\nd' }, value: 3 }],
        },
        { name: 'monitor_up', help: 'Up.', type: 'gauge', samples: [] },
      ]),
    ).toBe(
      '# HELP monitor_findings Open findings.\n# TYPE monitor_findings gauge\nmonitor_findings{detector="a\\"b\\\\c\\nd"} 3\n# HELP monitor_up Up.\n# TYPE monitor_up gauge\n',
    )
    expect(() => prometheusText([{ name: 'bad-name', help: '', type: 'gauge', samples: [] }])).toThrow(
      TypeError,
    )
    expect(() =>
      prometheusText([
        { name: 'ok', help: '', type: 'gauge', samples: [{ labels: { 'x-y': '1' }, value: 1 }] },
      ]),
    ).toThrow(TypeError)
  })

  it('replaces the file atomically, mode 0644, and reads a sample back (undefined when absent)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-alerts-'))
    try {
      const path = join(dir, 'm.prom')
      expect(await readPrometheusSample(path, 'monitor_last_run')).toBeUndefined()
      await writePrometheusTextfile(path, [
        {
          name: 'monitor_last_run',
          help: 'Last run.',
          type: 'gauge',
          samples: [{ labels: { job: 'm' }, value: 1767225600 }],
        },
        {
          name: 'monitor_last',
          help: 'A prefix of the other name.',
          type: 'gauge',
          samples: [{ labels: {}, value: 2 }],
        },
      ])
      expect(statSync(path).mode & 0o777).toBe(0o644)
      expect(await readPrometheusSample(path, 'monitor_last_run')).toBe(1767225600)
      expect(await readPrometheusSample(path, 'monitor_last')).toBe(2)
      expect(await readPrometheusSample(path, 'monitor_missing')).toBeUndefined()
      writeFileSync(path, 'garbage\n')
      expect(await readPrometheusSample(path, 'monitor_last_run')).toBeUndefined()
      expect(readFileSync(path, 'utf8')).toBe('garbage\n')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('deliverAlert', () => {
  it('never throws: reports each channel delivered or failed, by code, with a safe message', async () => {
    const lines: string[] = []
    const throwsPlain: AlertChannel<{ n: number }> = {
      name: 'broken',
      send: async () => {
        throw new Error('secret-token-in-message')
      },
    }
    const outcome = await deliverAlert({ n: 2 }, [
      lineChannel(
        (l) => lines.push(l),
        (p: { n: number }) => `found ${p.n}`,
      ),
      throwsPlain,
      webhookChannel(url('/hook'), {
        secret,
        attempts: 1,
        fetch: async () => new Response(null, { status: 500 }),
      }),
    ])
    expect(lines).toEqual(['found 2\n'])
    expect(outcome).toEqual({
      delivered: ['stderr'],
      failed: [
        { channel: 'broken', code: 'ERR_ALERT_DELIVERY', message: 'delivery failed' },
        { channel: 'webhook', code: 'ERR_ALERT_DELIVERY', message: 'webhook delivery failed (HTTP 500)' },
      ],
    })
  })
})
