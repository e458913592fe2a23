import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { verifyEvidence } from '@safeguards/controls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../src/index.js'
import { auditEvent, fakeIO, words } from './helpers.js'

const env = { SG_MASTER: 'm'.repeat(44) }
let root = ''

async function cli(argv: string[], stdin = '') {
  const f = fakeIO(stdin, { env })
  f.io.cwd = root
  const code = await runCli(argv, f.io)
  return { code, out: f.stdout(), err: f.stderr() }
}

const ev = (i: number): string => auditEvent(i, `Patient/secret-${i}`)

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sg-cli-evidence-'))
  const kg = await cli(['audit', 'keygen', '--out', 'log.key.jwk'])
  expect(kg.code, kg.err).toBe(0)
  writeFileSync(join(root, 'log.pub.jwk'), kg.out)
  const events = Array.from({ length: 10 }, (_, i) => ev(i)).join('\n')
  const ap = await cli(
    words`audit append --log log --key log.key.jwk --anchor anchor --checkpoint-every 4`,
    `${events}\n`,
  )
  expect(ap.code, ap.err).toBe(0)
  mkdirSync(join(root, 'src'))
  writeFileSync(join(root, 'src/jane-doe-chart.txt'), 'chart\n')
  for (const [priv, pub, kid] of [
    ['bag.key.jwk', 'bag.pub.jwk', 'backup-test'],
    ['ev.key.jwk', 'ev.pub.jwk', 'evidence-test'],
  ] as const)
    expect((await cli(['backup', 'keygen', priv, pub, '--kid', kid])).code).toBe(0)
  const bag = await cli(['backup', 'create', 'src', 'bag1', '--sign-key', 'bag.key.jwk'])
  expect(bag.code, bag.err).toBe(0)
  const kr = await cli(words`keys init --keyring keys.json --name clinic --master-env SG_MASTER`)
  expect(kr.code, kr.err).toBe(0)
  writeFileSync(
    join(root, 'session.json'),
    JSON.stringify({
      idleTimeoutMs: 600_000,
      roles: { nurse: { idleTimeoutMs: 300_000, absoluteTimeoutMs: 28_800_000 } },
    }),
  )
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

const all = (log: string, out: string): string[] => [
  ...words`evidence --log ${log} --anchor anchor --public-key log.pub.jwk`,
  ...words`--bag bag1 --bag-public-key bag.pub.jwk --keyring keys.json --master-env SG_MASTER`,
  ...words`--session-policy session.json --sign-key ev.key.jwk --out-dir ${out}`,
]

describe('safeguards evidence', () => {
  it('exit 0: writes evidence.json, a JWS that verifies, and Markdown; no PHI or bag file names', async () => {
    const r = await cli(all('log', 'out-ok'))
    expect(r.code, r.err).toBe(0)
    expect(r.out).toContain('Result: **PASS**')
    const json = readFileSync(join(root, 'out-ok/evidence.json'), 'utf8')
    const report = JSON.parse(json)
    expect(report).toMatchObject({
      ok: true,
      failures: [],
      auditLog: { ok: true, records: 10, verifiedThroughSeq: 9, anchoredThroughSeq: 9 },
      backups: [{ ok: true, signed: true, signingKid: 'backup-test', payloadFiles: 1 }],
      keys: { ok: true, keyring: 'clinic', sealed: true },
      sessionPolicy: { defaults: { idleTimeoutMs: 600_000 } },
      passwordPolicy: { minLength: 15 },
      activityReview: { ran: false },
    })
    expect(report.keys.versions).toHaveLength(1)
    expect(report.backups[0].ageMs).toBeGreaterThanOrEqual(0)
    const md = readFileSync(join(root, 'out-ok/evidence.md'), 'utf8')
    expect(md).toContain('10 records; verified through seq 9')
    expect(md).toContain('No activity review has been recorded in the audit log.')
    const jws = readFileSync(join(root, 'out-ok/evidence.jws'), 'utf8')
    const pub = JSON.parse(readFileSync(join(root, 'ev.pub.jwk'), 'utf8'))
    const v = await verifyEvidence(jws, pub)
    expect(v.valid).toBe(true)
    if (v.valid) expect(v.report).toEqual(report)
    for (const text of [json, md, jws, r.out]) {
      expect(text).not.toMatch(/secret-|jane-doe|Practitioner/)
      expect(text).not.toContain(env.SG_MASTER)
    }
  })

  it('exit 1 on a tampered log copy: the report is still written and names the failure', async () => {
    cpSync(join(root, 'log'), join(root, 'log-copy'), { recursive: true })
    const seg = join(root, 'log-copy', 'segments', `${'0'.repeat(20)}.jsonl`)
    const lines = readFileSync(seg, 'utf8').split('\n')
    lines[5] = (lines[5] as string).replace('secret-5', 'secret-6')
    writeFileSync(seg, lines.join('\n'))
    const r = await cli([...all('log-copy', 'out-bad'), '--json'])
    expect(r.code).toBe(1)
    expect(r.err).toContain('failed checks: audit-log')
    const report = JSON.parse(readFileSync(join(root, 'out-bad/evidence.json'), 'utf8'))
    expect(JSON.parse(r.out)).toEqual(report)
    expect(report.failures).toEqual(['audit-log'])
    expect(report.auditLog).toMatchObject({ ok: false, verifiedThroughSeq: 4 })
    expect(report.auditLog.findings[0]).toMatchObject({ seq: 5, code: 'HASH_MISMATCH' })
    expect(readFileSync(join(root, 'out-bad/evidence.md'), 'utf8')).toContain('Result: **FAIL**')
  })

  it('exit 1 on a changed bag or a too-old key', async () => {
    cpSync(join(root, 'bag1'), join(root, 'bag2'), { recursive: true })
    writeFileSync(join(root, 'bag2/data/jane-doe-chart.txt'), 'changed\n')
    const bad = await cli(['evidence', '--bag', 'bag2', '--bag-public-key', 'bag.pub.jwk', '--json'])
    expect(bad.code).toBe(1)
    const report = JSON.parse(bad.out)
    expect(report.failures).toEqual(['backups'])
    expect(bad.out).not.toContain('jane-doe')
    await new Promise((r) => setTimeout(r, 5))
    const old = await cli(words`evidence --keyring keys.json --master-env SG_MASTER --max-key-age 1ms`)
    expect(old.code).toBe(1)
    expect(old.err).toContain('failed checks: keys')
  })

  it('exit 2 on usage errors', async () => {
    expect((await cli(['evidence'])).code).toBe(2)
    expect((await cli(['evidence', '--keyring', 'keys.json', '--sign-key', 'ev.key.jwk'])).code).toBe(2)
    expect((await cli(['evidence', '--bag-public-key', 'x', '--keyring', 'keys.json'])).code).toBe(2)
    expect((await cli(['evidence', '--log', 'log', '--password-min-length', '4'])).code).toBe(2)
    writeFileSync(join(root, 'bad-session.json'), '{"idleTimeoutMs":-1}')
    expect((await cli(['evidence', '--log', 'log', '--session-policy', 'bad-session.json'])).code).toBe(2)
    const pubAsSigner = await cli(['evidence', '--log', 'log', '--sign-key', 'ev.pub.jwk', '--out-dir', 'o'])
    expect(pubAsSigner.code).toBe(2)
    expect(pubAsSigner.err).toContain('--sign-key')
  })

  it('reports the newest activity review recorded in the log: when, what it covered, findings by detector', async () => {
    // the detectors' findings depend on the wall-clock time the log was written (off-hours), so the
    // evidence is compared with what the review itself printed
    const review = await cli(words`audit review --log log --by po-1 --json`)
    expect([0, 1]).toContain(review.code)
    const byDetector: Record<string, number> = {}
    for (const f of JSON.parse(review.out).findings as { detector: string }[])
      byDetector[f.detector] = (byDetector[f.detector] ?? 0) + 1
    const r = await cli(words`evidence --log log --public-key log.pub.jwk --out-dir out-review`)
    expect(r.code, r.err).toBe(0)
    const report = JSON.parse(readFileSync(join(root, 'out-review/evidence.json'), 'utf8'))
    expect(report.activityReview).toMatchObject({
      ran: true,
      from: 0,
      through: 10,
      logSize: 10,
      findings: byDetector,
    })
    expect(report.activityReview.seq).toBeGreaterThanOrEqual(10)
    expect(report.activityReview.ageMs).toBeGreaterThanOrEqual(0)
    expect(readFileSync(join(root, 'out-review/evidence.md'), 'utf8')).toContain(
      '- Reviewed records 0 to 9 of 10',
    )
  })
})
