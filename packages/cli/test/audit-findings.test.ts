import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { openFileStore } from '@safeguards/audit-log'
import { bytesToHex, verifyWebhookSignature } from '@safeguards/core'
import pg from 'pg'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { useWebhookReceiver } from '../../../scripts/test-support/webhook-receiver.js'
import { cleanup, run, setup } from './review-log.js'

afterEach(cleanup)

const { received, answers, url } = useWebhookReceiver()

const secret = new Uint8Array(32).fill(7)
const env = { REVIEW_HOOK_SECRET: bytesToHex(secret) }
/** `audit findings ACTION --findings findings --k v …` in `dir`. */
const findingsRun = (dir: string, action: string, opts: Record<string, string>, ...flags: string[]) =>
  run(
    [
      'audit',
      'findings',
      action,
      '--findings',
      'findings',
      ...Object.entries(opts).flatMap(([k, v]) => [`--${k}`, v]),
      ...flags,
    ],
    '',
    dir,
  )
const review = (dir: string, ...more: string[]) =>
  run(['audit', 'review', '--log', 'log', '--findings', 'findings', ...more], '', dir, env)

/** The ids in a review's text output, by detector. */
function ids(out: string): Record<string, string> {
  const found: Record<string, string> = {}
  for (const line of out.split('\n')) {
    const [, detector, id] = line.split('\t')
    if (id?.startsWith('fnd_')) found[detector as string] = id
  }
  return found
}

async function records(dir: string): Promise<{ subtype?: string[]; details?: Record<string, unknown> }[]> {
  const store = await openFileStore({ dir: join(dir, 'log'), readOnly: true })
  const out: { subtype?: string[]; details?: Record<string, unknown> }[] = []
  for await (const r of store.read(0)) out.push(JSON.parse(new TextDecoder().decode(r.bytes)).event)
  await store.close()
  return out
}

describe('safeguards audit review --findings', () => {
  it('shows new findings only; a re-run is quiet; the exit code counts open findings only', async () => {
    const dir = await setup()
    const first = await review(dir)
    expect(first.code).toBe(1)
    const found = ids(first.out)
    expect(Object.keys(found).sort()).toEqual(['failed-sign-in-burst', 'password-spray'])
    expect(first.out).toContain('2 findings (2 new), 0 damaged records')
    const second = await review(dir)
    expect(second.code).toBe(1) // still open: nobody has reviewed the spray
    expect(ids(second.out)).toEqual({})
    expect(second.out).toContain('2 findings (0 new)')
    const spray = found['password-spray'] as string
    const ack = await findingsRun(dir, 'ack', {
      id: spray,
      disposition: 'inappropriate',
      by: 'Practitioner/po-1',
      log: 'log',
    })
    expect(ack.code).toBe(0)
    expect(ack.out).toMatch(
      /^acknowledged\thigh\tpassword-spray\tfnd_\S+\t-\tinappropriate\tPractitioner\/po-1\t/,
    )
    expect((await review(dir)).code).toBe(0) // the medium burst is below --fail-on high
    expect((await review(dir, '--fail-on', 'medium')).code).toBe(1)
    const json = await review(dir, '--json')
    expect(JSON.parse(json.out).new).toEqual([])
    const recorded = (await records(dir)).filter((r) => r.subtype?.[0] === 'finding-acknowledged')
    expect(recorded).toHaveLength(1)
    expect(recorded[0]?.details).toEqual({
      finding: spray,
      detector: 'password-spray',
      disposition: 'inappropriate',
    })
  })

  it('alerts each new finding once through the signed webhook, stderr and the textfile', async () => {
    const dir = await setup()
    received.length = 0
    const alerting = [
      '--alert-webhook',
      url('/hook'),
      '--alert-secret-env',
      'REVIEW_HOOK_SECRET',
      '--alert-stderr',
    ]
    const first = await review(dir, ...alerting, '--alert-textfile', 'review.prom')
    expect(first.code).toBe(1)
    expect(received).toHaveLength(2)
    for (const r of received) {
      const ts = r.headers['x-safeguards-timestamp'] as string
      expect(
        verifyWebhookSignature(secret, ts, r.headers['x-safeguards-signature'] as string, r.body, Date.now()),
      ).toBe(true)
      const payload = JSON.parse(r.body)
      expect(Object.keys(payload).sort()).toEqual([
        'count',
        'detector',
        'findingId',
        'from',
        'severity',
        'to',
      ])
      expect(r.body).not.toMatch(/acct-|Practitioner|203\.0\.113/) // no who, no address, no patients
    }
    expect(JSON.parse(received[0]!.body)).toMatchObject({
      detector: 'password-spray',
      severity: 'high',
      count: 12,
    })
    expect(first.err.match(/alert high password-spray fnd_\S+ count 12 /g)).toHaveLength(1)
    const prom = readFileSync(join(dir, 'review.prom'), 'utf8')
    expect(prom).toContain('safeguards_review_open_findings{detector="password-spray",severity="high"} 1\n')
    expect(prom).toContain(
      'safeguards_review_open_findings{detector="failed-sign-in-burst",severity="medium"} 1\n',
    )
    expect(prom).toMatch(/safeguards_review_last_run_timestamp_seconds \d{10}\n/)
    received.length = 0
    const again = await review(dir, ...alerting, '--alert-textfile', 'review.prom')
    expect(received).toHaveLength(0)
    expect(again.err).not.toContain('alert ')
  })

  it('a failing webhook is reported on stderr and leaves the exit code alone', async () => {
    const dir = await setup()
    answers.push(...Array(6).fill(500))
    const r = await review(dir, '--alert-webhook', url('/hook'), '--alert-secret-env', 'REVIEW_HOOK_SECRET')
    expect(r.code).toBe(1)
    expect(r.err).toContain(
      'alert channel webhook failed: webhook delivery failed (HTTP 500) (ERR_ALERT_DELIVERY)',
    )
    expect(ids(r.out)).toHaveProperty('password-spray') // admitted and shown all the same
  })

  it('refuses bad alert and findings options with exit 2', async () => {
    const dir = await setup()
    const bad: [string[], Record<string, string>][] = [
      [['--alert-webhook', url('/hook')], env], // no --alert-secret-env
      [['--alert-webhook', url('/hook'), '--alert-secret-env', 'NOPE'], env],
      [['--alert-webhook', url('/hook'), '--alert-secret-env', 'S'], { S: 'ab'.repeat(31) }], // 31 bytes
      [['--alert-webhook', url('/hook'), '--alert-secret-env', 'S'], { S: '%%%not-base64' }],
      [['--alert-webhook', 'ftp://x', '--alert-secret-env', 'REVIEW_HOOK_SECRET'], env],
      [['--alert-secret-env', 'REVIEW_HOOK_SECRET'], env],
    ]
    for (const [argv, e] of bad)
      expect(
        (await run(['audit', 'review', '--log', 'log', '--findings', 'f', ...argv], '', dir, e)).code,
        argv.join(' '),
      ).toBe(2)
    const noStore = await run(['audit', 'review', '--log', 'log', '--alert-stderr'], '', dir)
    expect(noStore.code).toBe(2)
    const b64 = { S: btoa(String.fromCharCode(...secret)) }
    expect(
      (
        await run(
          [
            'audit',
            'review',
            '--log',
            'log',
            '--findings',
            'f',
            '--alert-webhook',
            url('/hook'),
            '--alert-secret-env',
            'S',
          ],
          '',
          dir,
          b64,
        )
      ).code,
    ).toBe(1)
  })
})

describe('safeguards audit findings', () => {
  it('list, ack and suppress; refuses self-review, unknown ids and bad options', async () => {
    const dir = await setup()
    const found = ids((await review(dir)).out)
    const burst = found['failed-sign-in-burst'] as string
    const spray = found['password-spray'] as string
    const list = await run(['audit', 'findings', 'list', '--findings', 'findings', '--json'], '', dir)
    expect(list.code).toBe(0)
    expect(JSON.parse(list.out).map((s: { state: string }) => s.state)).toEqual(['new', 'new'])
    const self = await findingsRun(
      dir,
      'ack',
      { id: burst, disposition: 'appropriate', by: 'Practitioner/2' },
      '--json',
    )
    expect(self.code).toBe(2)
    expect(JSON.parse(self.out).error.code).toBe('ERR_MONITOR_SELF_REVIEW')
    const unknown = await findingsRun(
      dir,
      'ack',
      { id: `fnd_${'a'.repeat(32)}`, disposition: 'appropriate', by: 'x' },
      '--json',
    )
    expect(unknown.code).toBe(2)
    expect(JSON.parse(unknown.out).error.code).toBe('ERR_MONITOR_FINDING_UNKNOWN')
    const until = new Date(Date.now() + 86_400_000).toISOString()
    const sup = await findingsRun(dir, 'suppress', {
      id: burst,
      until: until,
      by: 'Practitioner/po-1',
      log: 'log',
    })
    expect(sup.code).toBe(0)
    expect(sup.out).toContain(
      `suppressed\tmedium\tfailed-sign-in-burst\t${burst}\tPractitioner/2\tuntil ${until}`,
    )
    const open = await run(['audit', 'findings', 'list', '--findings', 'findings', '--open'], '', dir)
    expect(
      open.out
        .trim()
        .split('\n')
        .map((l) => l.split('\t')[3]),
    ).toEqual([spray])
    const recorded = (await records(dir)).filter((r) => r.subtype?.[0] === 'finding-suppressed')
    expect(recorded.map((r) => r.details)).toEqual([
      { finding: burst, detector: 'failed-sign-in-burst', until },
    ])
    for (const argv of [
      ['frob', '--findings', 'findings'],
      ['ack', '--findings', 'findings', '--id', spray, '--disposition', 'fine', '--by', 'x'],
      ['ack', '--findings', 'findings', '--id', spray, '--by', 'x'],
      ['suppress', '--findings', 'findings', '--id', spray, '--until', 'tomorrow', '--by', 'x'],
      ['list'],
      ['list', '--findings', 'nowhere'], // only a review creates a store
    ])
      expect((await run(['audit', 'findings', ...argv], '', dir)).code, argv.join(' ')).toBe(2)
  })
})

describe('safeguards evidence --findings', () => {
  it('reports the findings still open, by detector, in the activity-review section', async () => {
    const dir = await setup()
    const spray = ids((await review(dir)).out)['password-spray'] as string
    const ack = await findingsRun(dir, 'ack', { id: spray, disposition: 'appropriate', by: 'po-1' })
    expect(ack.code).toBe(0)
    const r = await run(['evidence', '--log', 'log', '--findings', 'findings', '--json'], '', dir)
    expect(r.code, r.err).toBe(0)
    expect(JSON.parse(r.out).activityReview).toMatchObject({
      ran: true,
      findings: { 'failed-sign-in-burst': 1, 'password-spray': 1 },
      openFindings: { 'failed-sign-in-burst': 1 },
      totalOpenFindings: 1,
    })
    const md = await run(['evidence', '--log', 'log', '--findings', 'findings'], '', dir)
    expect(md.out).toContain(
      '- Open findings (not yet acknowledged or suppressed): 1 (`failed-sign-in-burst` 1)',
    )
    expect((await run(['evidence', '--findings', 'findings', '--bag', 'x'], '', dir)).code).toBe(2) // needs --log
    expect((await run(['evidence', '--log', 'log', '--findings', 'nowhere'], '', dir)).code).toBe(2)
  })
})

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const probe = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 })
const pgUp = await probe.connect().then(
  () => true,
  () => false,
)
await probe.end().catch(() => undefined)

describe.skipIf(!pgUp && process.env.CI !== 'true')('findings in PostgreSQL', () => {
  const schema = `sg_cli_findings_${process.pid}`
  afterAll(async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL })
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await pool.end()
  })

  it('review --findings postgres://…?schema= admits once; findings ack works on it', async () => {
    const dir = await setup()
    const store = `${DATABASE_URL}?schema=${schema}`
    const argv = ['audit', 'review', '--log', 'log', '--findings', store]
    const first = await run(argv, '', dir)
    expect(Object.keys(ids(first.out))).toHaveLength(2)
    const second = await run(argv, '', dir)
    expect(second.out).toContain('2 findings (0 new)')
    const spray = ids(first.out)['password-spray'] as string
    const ack = [
      'audit',
      'findings',
      'ack',
      '--findings',
      store,
      '--id',
      spray,
      '--disposition',
      'false-positive',
      '--by',
      'po',
    ]
    expect((await run(ack, '', dir)).code).toBe(0)
    expect((await run(argv, '', dir)).code).toBe(0)
  })
})
