import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { type AddressInfo, createServer } from 'node:net'
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
  it('exit 0: writes evidence.json, a JWS that verifies, Markdown and HTML; no PHI or bag file names', async () => {
    // Since issue 18 §2 a log without an activity review is "not met" (164.308(a)(1)(ii)(D)): review a copy first.
    cpSync(join(root, 'log'), join(root, 'log-reviewed'), { recursive: true })
    expect([0, 1]).toContain((await cli(words`audit review --log log-reviewed --by po-1`)).code)
    const r = await cli(all('log-reviewed', 'out-ok'))
    expect(r.code, r.err).toBe(0)
    expect(r.out).toContain('Result: **PASS**')
    const json = readFileSync(join(root, 'out-ok/evidence.json'), 'utf8')
    const report = JSON.parse(json)
    expect(report).toMatchObject({
      ok: true,
      failures: [],
      auditLog: {
        ok: true,
        signaturesChecked: true,
        checkpoint: { size: 10, kid: expect.any(String) },
      },
      backups: [{ ok: true, signed: true, signingKid: 'backup-test', payloadFiles: 1 }],
      keys: { ok: true, keyring: 'clinic', sealed: true },
      sessionPolicy: { defaults: { idleTimeoutMs: 600_000 } },
      passwordPolicy: { minLength: 15 },
      activityReview: { ran: true, from: 0, through: 10 },
    })
    expect(report.schemaVersion).toBe(2)
    expect(report.auditLog.records).toBeGreaterThan(10) // the review run is recorded in the log
    expect(report.auditLog.verifiedThroughSeq).toBe(report.auditLog.records - 1)
    expect(report.sessionPolicy.declared).toBe(false) // read from --session-policy
    expect(report.passwordPolicy.declared).toBe(true) // from flags
    expect(report.verdicts.find((v: { check: string }) => v.check === 'password.minLength')).toMatchObject({
      status: 'partly met',
      basis: 'declared',
    })
    expect(report.verdicts.filter((v: { status: string }) => v.status === 'not met')).toEqual([])
    expect(report.keys.versions).toHaveLength(1)
    expect(report.backups[0].ageMs).toBeGreaterThanOrEqual(0)
    const md = readFileSync(join(root, 'out-ok/evidence.md'), 'utf8')
    expect(md).toContain(`verified through seq ${report.auditLog.records - 1}`)
    expect(md).toContain(`- Log state judged: size 10, root \`${report.auditLog.checkpoint.root}\``)
    expect(md).toContain('- Reviewed records 0 to 9 of 10')
    const html = readFileSync(join(root, 'out-ok/evidence.html'), 'utf8')
    expect(html).toContain('PASS: nothing is not met')
    expect(html).toContain('<svg')
    const jws = readFileSync(join(root, 'out-ok/evidence.jws'), 'utf8')
    const pub = JSON.parse(readFileSync(join(root, 'ev.pub.jwk'), 'utf8'))
    const v = await verifyEvidence(jws, pub)
    expect(v.valid).toBe(true)
    if (v.valid) expect(v.report).toEqual(report)
    for (const text of [json, md, html, jws, r.out]) {
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
    // issue 18 §2: the copy holds no activity review, which is now judged "not met" as well
    expect(r.err).toContain('failed checks: audit-log, activity-review')
    expect(r.err).toContain(
      'not met: 164.312(b), 164.312(c)(1) auditLog.integrity: verification failed at seq 5 (HASH_MISMATCH)',
    )
    const report = JSON.parse(readFileSync(join(root, 'out-bad/evidence.json'), 'utf8'))
    expect(JSON.parse(r.out)).toEqual(report)
    expect(report.failures).toEqual(['audit-log', 'activity-review'])
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

  it('exit 1 with a 24-hour idle timeout: names the control, the value, the threshold and the fix', async () => {
    writeFileSync(
      join(root, 'session-24h.json'),
      JSON.stringify({ roles: { nurse: { idleTimeoutMs: 86_400_000, absoluteTimeoutMs: 86_400_000 } } }),
    )
    const r = await cli(
      words`evidence --keyring keys.json --master-env SG_MASTER --session-policy session-24h.json`,
    )
    expect(r.code).toBe(1)
    expect(r.err).toContain('failed checks: session')
    expect(r.err).toContain(
      'not met: 164.312(a)(2)(iii) session.idleTimeout[nurse]: role nurse: idle 1 d (86400000 ms); threshold idle ≤ 15 min (900000 ms) for roles with PHI access (NIST SP 800-63B rev 4 §2.3.3 (AAL3 inactivity); HIPAA 164.312(a)(2)(iii)); fix: Set idleTimeoutMs of role "nurse" to at most 900000 (15 min) in the session policy.',
    )
    expect(r.out).toContain('| ✗ not met | 164.312(a)(2)(iii) | `session.idleTimeout\\[nurse\\]` |')
  })

  it('--transit checks each endpoint with the TLS checker: one that cannot be reached is not met (exit 1)', async () => {
    const closed = await new Promise<number>((res) => {
      const srv = createServer()
      srv.listen(0, '127.0.0.1', () => {
        const port = (srv.address() as AddressInfo).port
        srv.close(() => res(port))
      })
    })
    const r = await cli([
      ...words`evidence --keyring keys.json --master-env SG_MASTER`,
      '--transit',
      `127.0.0.1:${closed}`,
      '--json',
    ])
    expect(r.code, r.err).toBe(1)
    const report = JSON.parse(r.out)
    expect(report.transit).toEqual([
      { endpoint: `127.0.0.1:${closed}`, verdict: 'fail', reasons: ['unreachable'] },
    ])
    expect(r.err).toContain('transit')
    expect((await cli(words`evidence --transit nowhere`)).code).toBe(2)
  })

  it('a baseline file loosens a threshold with its reason; a bad one is a usage error naming the pointer', async () => {
    writeFileSync(
      join(root, 'baseline.yaml'),
      'name: night-shift\nphiRoles: [nurse]\nthresholds:\n  session.idleTimeout: { value: 24h, reason: kiosk in a locked room }\n  session.absoluteTimeout: { value: 24h, reason: kiosk in a locked room }\n',
    )
    const r = await cli(
      words`evidence --keyring keys.json --master-env SG_MASTER --session-policy session-24h.json --baseline baseline.yaml --json`,
    )
    expect(r.code, r.err).toBe(0)
    const report = JSON.parse(r.out)
    expect(report.baseline).toMatchObject({
      name: 'night-shift',
      phiRoles: ['nurse'],
      adjustments: [
        { id: 'session.idleTimeout', direction: 'loosened', reason: 'kiosk in a locked room' },
        { id: 'session.absoluteTimeout', direction: 'loosened', reason: 'kiosk in a locked room' },
      ],
    })
    writeFileSync(join(root, 'bad-baseline.json'), '{"thresholds":{"backup.rpo":{"value":"1d"}}}')
    const bad = await cli(
      words`evidence --keyring keys.json --master-env SG_MASTER --baseline bad-baseline.json`,
    )
    expect(bad.code).toBe(2)
    expect(bad.err).toContain('/thresholds/backup.rpo/reason')
    expect((await cli(words`evidence --keyring keys.json --master-env SG_MASTER --json --html`)).code).toBe(2)
  })

  it('labels flags and library defaults as declared; --mfa-roles names the roles; --html prints the page', async () => {
    const r = await cli(
      words`evidence --keyring keys.json --master-env SG_MASTER --session-policy session.json --mfa-roles physician --html`,
    )
    expect(r.code).toBe(1) // nurse, a PHI role, without MFA
    expect(r.err).toContain('mfa.phiRoles: MFA required for physician; not for nurse')
    expect(r.out.startsWith('<!doctype html>')).toBe(true)
    const d = await cli(
      words`evidence --keyring keys.json --master-env SG_MASTER --password-blocklist --json`,
    )
    const report = JSON.parse(d.out)
    expect(report.sessionPolicy.declared).toBe(true)
    expect(
      report.verdicts.find((v: { check: string }) => v.check === 'session.idleTimeout[*]'),
    ).toMatchObject({
      status: 'partly met',
      basis: 'declared',
    })
    expect(report.passwordPolicy).toMatchObject({ blocklist: true, declared: true })
  })
})
