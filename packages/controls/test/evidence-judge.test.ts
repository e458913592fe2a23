import { manualClock } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import {
  type BackupVerifyInput,
  buildEvidenceReport,
  compileBaseline,
  type EvidenceInputs,
  type EvidenceReport,
  renderEvidenceHtml,
  renderEvidenceMarkdown,
  runTransitChecks,
  type TransitChecker,
  type Verdict,
} from '../src/index.js'

const now = Date.parse('2026-11-22T12:00:00.000Z')
const clock = manualClock(now)
const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR

const session = (idle = 15 * MIN): NonNullable<EvidenceInputs['sessionPolicy']> => ({
  defaults: { idleTimeoutMs: 15 * MIN, absoluteTimeoutMs: 12 * HOUR },
  roles: {
    nurse: { idleTimeoutMs: idle, absoluteTimeoutMs: 8 * HOUR },
    physician: { idleTimeoutMs: 10 * MIN, absoluteTimeoutMs: 8 * HOUR },
  },
  maxSessionsPerUser: 5,
  onSessionLimit: 'evict-oldest',
})

/** A verified, signed attestation created `age` ms ago. */
const attestation = (age: number): BackupVerifyInput['attestation'] => ({
  verified: true,
  kid: 'b',
  seq: 1,
  createdAt: new Date(now - age).toISOString(),
  sha256: 'cd'.repeat(32),
})

function bag(over: Partial<BackupVerifyInput> = {}): BackupVerifyInput {
  return {
    status: 'ok',
    exitCode: 0,
    finishedAt: new Date(now - HOUR).toISOString(),
    bag: { bagId: 'bag-1', backupSetId: 'nightly', payloadFiles: 2, payloadBytes: 10, encrypted: true },
    attestation: attestation(2 * HOUR),
    findings: [],
    coverage: { filesVerified: 2, filesTotal: 2 },
    restoreTests: [{ name: 'pg_restore --list', ok: true }],
    ...over,
  }
}

const auditReport = (over: Partial<NonNullable<EvidenceInputs['auditLog']>['report']> = {}) => ({
  ok: true,
  stream: 'ehr',
  records: 100,
  checkpoints: { total: 3, verified: 3 },
  anchoredThrough: 95,
  checkpointedThrough: 99,
  findings: [],
  ...over,
})

const find = (r: EvidenceReport, check: string): Verdict => {
  const v = r.verdicts.find((x) => x.check === check)
  if (v === undefined) throw new Error(`no verdict ${check}: ${r.verdicts.map((x) => x.check).join(', ')}`)
  return v
}

/** Asserts that each named verdict of `r` has the expected fields. */
function expectVerdicts(r: EvidenceReport, expected: Record<string, Partial<Verdict>>): void {
  for (const [check, fields] of Object.entries(expected)) expect(find(r, check), check).toMatchObject(fields)
}

describe('judging the evidence', () => {
  it('a 24-hour idle timeout for a PHI role is not met, naming the value, the threshold, the source and the fix', () => {
    const r = buildEvidenceReport({ clock, sessionPolicy: session(24 * HOUR) })
    expect(r.ok).toBe(false)
    expect(r.failures).toEqual(['session'])
    expect(find(r, 'session.idleTimeout[nurse]')).toEqual({
      check: 'session.idleTimeout[nurse]',
      area: 'session',
      hipaa: ['164.312(a)(2)(iii)'],
      status: 'not met',
      basis: 'measured',
      measured: 'role nurse: idle 1 d (86400000 ms)',
      threshold: 'idle ≤ 15 min (900000 ms) for roles with PHI access',
      source: 'NIST SP 800-63B rev 4 §2.3.3 (AAL3 inactivity); HIPAA 164.312(a)(2)(iii)',
      remediation: 'Set idleTimeoutMs of role "nurse" to at most 900000 (15 min) in the session policy.',
    })
    expect(find(r, 'session.idleTimeout[physician]').status).toBe('met')
    expect(find(r, 'session.absoluteTimeout[*]').status).toBe('met')
    const spec = r.specifications.find((s) => s.hipaa === '164.312(a)(2)(iii)')
    expect(spec).toMatchObject({ status: 'not met', family: 'technical', title: 'Automatic logoff' })
    const md = renderEvidenceMarkdown(r)
    expect(md).toContain('Result: **FAIL** (not met: session)')
    expect(md).toContain(
      '| ✗ not met | 164.312(a)(2)(iii) | `session.idleTimeout\\[nurse\\]` | role nurse: idle 1 d (86400000 ms) |',
    )
  })

  it('only the baseline PHI roles are judged, and a loosened threshold with its reason passes and is recorded', () => {
    const baseline = compileBaseline({
      phiRoles: ['physician'],
      thresholds: { 'session.idleTimeout': { value: '30m', reason: 'single-user exam rooms' } },
    })
    const r = buildEvidenceReport({ clock, sessionPolicy: session(24 * HOUR), baseline })
    expect(r.ok).toBe(true)
    expect(r.verdicts.map((v) => v.check)).toEqual([
      'session.idleTimeout[physician]',
      'session.absoluteTimeout[physician]',
    ])
    expect(r.baseline.adjustments).toEqual([
      {
        id: 'session.idleTimeout',
        from: 900_000,
        to: 1_800_000,
        direction: 'loosened',
        reason: 'single-user exam rooms',
      },
    ])
    expect(renderEvidenceMarkdown(r)).toContain(
      '| `session.idleTimeout` | 900000 | 1800000 | loosened | single-user exam rooms |',
    )
  })

  it('library defaults and flags are declared, never met on their own', () => {
    const passwordPolicy = {
      minLength: 15,
      maxLength: 128,
      maxBytes: 1024,
      mfa: false,
      basis: 'x',
      blocklist: true,
      rehash: true,
    }
    const r = buildEvidenceReport({ clock, sessionPolicy: { ...session(), declared: true }, passwordPolicy })
    expect(r.ok).toBe(true)
    for (const v of r.verdicts) {
      expect(v.basis).toBe('declared')
      expect(v.status).toBe('partly met')
    }
    const measured = buildEvidenceReport({ clock, passwordPolicy: { ...passwordPolicy, declared: false } })
    expect(measured.verdicts.map((v) => v.status)).toEqual(['met', 'met', 'met'])
  })

  it('password: 6 characters is not met; 8 is enough with MFA, not without; an unstated blocklist is partly met', () => {
    const p = { maxLength: 128, maxBytes: 1024, basis: 'NIST SP 800-63B rev 4', declared: false }
    const six = buildEvidenceReport({ clock, passwordPolicy: { ...p, minLength: 6, mfa: true } })
    expect(find(six, 'password.minLength')).toMatchObject({
      status: 'not met',
      measured: 'minimum 6 characters (with a second factor)',
      threshold: '≥ 8 characters within MFA',
      remediation: 'Require at least 8 characters (checkPasswordPolicy minLength).',
    })
    expect(
      buildEvidenceReport({ clock, passwordPolicy: { ...p, minLength: 8, mfa: true } }).verdicts[0]?.status,
    ).toBe('met')
    expect(
      buildEvidenceReport({ clock, passwordPolicy: { ...p, minLength: 8, mfa: false } }).verdicts[0]?.status,
    ).toBe('not met')
    const r = buildEvidenceReport({
      clock,
      passwordPolicy: { ...p, minLength: 15, mfa: false, rehash: false },
    })
    expect(find(r, 'password.blocklist')).toMatchObject({ status: 'partly met', basis: 'declared' })
    expect(find(r, 'password.rehash')).toMatchObject({ status: 'not met' })
    expect(r.failures).toEqual(['password'])
  })

  it('MFA: every PHI role must require it; declared roles are partly met; the enrolled share is measured', () => {
    const s = session()
    const some = buildEvidenceReport({ clock, sessionPolicy: s, mfa: { requiredRoles: ['physician'] } })
    expect(find(some, 'mfa.phiRoles')).toMatchObject({
      status: 'not met',
      hipaa: ['164.312(d)'],
      measured: 'MFA required for physician; not for nurse',
    })
    expect(
      find(buildEvidenceReport({ clock, sessionPolicy: s, mfa: { requiredRoles: '*' } }), 'mfa.phiRoles')
        .status,
    ).toBe('partly met')
    const counted = buildEvidenceReport({
      clock,
      sessionPolicy: s,
      mfa: { requiredRoles: '*', declared: false, enrollment: { users: 10, enrolled: 9 } },
    })
    expect(find(counted, 'mfa.phiRoles').status).toBe('met')
    expect(find(counted, 'mfa.enrolledShare')).toMatchObject({
      status: 'not met',
      measured: '9 of 10 users with PHI access enrolled (90 %)',
      remediation: 'Enrol the 1 remaining users, or suspend their PHI access.',
    })
    expect(() =>
      buildEvidenceReport({ clock, mfa: { requiredRoles: '*', enrollment: { users: 1, enrolled: 2 } } }),
    ).toThrow()
  })

  it('keys: an unknown age is not measured (never age 0); a version past the rotation period or its budget is not met', () => {
    /** A report on a keyring of one primary key, `wraps` of 100 spent, created at `createdAt`. */
    const withKey = (wraps: bigint, createdAt?: number): EvidenceReport =>
      buildEvidenceReport({
        clock,
        keyring: {
          name: 'k',
          sealed: true,
          keys: [
            {
              keyRef: 'local:k:v1',
              version: 1,
              state: 'primary',
              ...(createdAt === undefined ? {} : { createdAt }),
              usage: { wraps, limit: 100n },
            },
          ],
        },
      })
    const unknown = withKey(1n)
    expectVerdicts(unknown, {
      'keys.rotationPeriod': { status: 'partly met', measured: 'local:k:v1 (primary) age unknown' },
    })
    expect(unknown.keys?.versions[0]?.ageMs).toBeNull()
    const old = withKey(90n, now - 1000 * DAY)
    expectVerdicts(old, {
      'keys.rotationPeriod': { status: 'not met', measured: 'local:k:v1 (primary) 1000 d' },
      'keys.budgetShare': { status: 'partly met', measured: 'local:k:v1: 90 of 100 wraps (90.0000 %)' },
    })
    const spent = withKey(100n, now - DAY)
    expect(find(spent, 'keys.budgetShare').status).toBe('not met')
    expect(spent.failures).toEqual(['keys'])
  })

  it('audit log: intact, signed, anchored within the lag is met; no key or no anchor is partly met; the judged state is recorded', () => {
    const checkpoint = {
      size: 100,
      root: `${'q'.repeat(43)}=`,
      timestamp: '2026-11-22T11:00:00.000Z',
      kid: 'log-1',
    }
    const good = buildEvidenceReport({
      clock,
      auditLog: { report: auditReport(), verifiedAt: new Date(now), checkpoint },
    })
    expect(good.verdicts.map((v) => [v.check, v.status])).toEqual([
      ['auditLog.integrity', 'met'],
      ['auditLog.signatures', 'met'],
      ['auditLog.anchor', 'met'],
    ])
    expect(good.auditLog).toMatchObject({ signaturesChecked: true, anchorLagRecords: 4, checkpoint })
    expect(renderEvidenceMarkdown(good)).toContain(
      `- Log state judged: size 100, root \`${checkpoint.root}\``,
    )
    const unsigned = buildEvidenceReport({
      clock,
      auditLog: {
        report: auditReport({
          anchoredThrough: null,
          findings: [{ seq: 0, code: 'CHECKPOINT_UNVERIFIED', severity: 'warning' }],
        }),
        verifiedAt: new Date(now),
      },
    })
    expect(unsigned.ok).toBe(true)
    expect(find(unsigned, 'auditLog.signatures')).toMatchObject({
      status: 'partly met',
      remediation: 'Verify with the checkpoint public key (--public-key).',
    })
    expect(find(unsigned, 'auditLog.anchor').status).toBe('partly met')
    const lagging = buildEvidenceReport({
      clock,
      auditLog: { report: auditReport({ records: 5000 }), verifiedAt: new Date(now) },
    })
    expect(find(lagging, 'auditLog.anchor')).toMatchObject({
      status: 'partly met',
      measured: 'anchored through seq 95; 4904 records not yet anchored',
    })
  })

  it('activity review: none or too old is not met; open findings are partly met', () => {
    expect(find(buildEvidenceReport({ clock, activityReview: null }), 'activityReview.period').status).toBe(
      'not met',
    )
    const review = (age: number) => ({
      ranAt: new Date(now - age),
      seq: 9,
      from: 0,
      through: 9,
      logSize: 9,
      findings: {},
    })
    expect(
      find(buildEvidenceReport({ clock, activityReview: review(8 * DAY) }), 'activityReview.period').status,
    ).toBe('not met')
    const r = buildEvidenceReport({ clock, activityReview: review(DAY), openFindings: { 'bulk-access': 2 } })
    expect(find(r, 'activityReview.period').status).toBe('met')
    expect(find(r, 'activityReview.openFindings')).toMatchObject({
      status: 'partly met',
      measured: '2 findings open',
    })
  })

  it('backups: partial or unsigned bags are not met, freshness against the RPO, the last restore test; attestation hashes recorded', () => {
    const good = buildEvidenceReport({ clock, backups: [bag()] })
    expect(good.verdicts.map((v) => [v.check, v.status])).toEqual([
      ['backup.integrity[bag-1]', 'met'],
      ['backup.rpo', 'met'],
      ['backup.restoreTest', 'met'],
    ])
    expect(find(good, 'backup.integrity[bag-1]').measured).toContain(`attestation sha256 ${'cd'.repeat(32)}`)
    expect(renderEvidenceMarkdown(good)).toContain(
      `- bag-1: attestation sha256 \`${'cd'.repeat(32)}\`; restore tests pg\\_restore --list passed`,
    )
    const partial = buildEvidenceReport({ clock, backups: [bag({ status: 'partial' })] })
    expect(find(partial, 'backup.integrity[bag-1]').status).toBe('not met')
    expect(partial.backups[0]?.ok).toBe(false)
    const unsigned = buildEvidenceReport({ clock, backups: [bag({ attestation: null })] })
    expect(find(unsigned, 'backup.integrity[bag-1]')).toMatchObject({
      status: 'not met',
      measured: 'ok, 2/2 files, not signed',
    })
    expect(find(unsigned, 'backup.rpo').status).toBe('partly met') // no signed creation time: age unknown
    const stale = buildEvidenceReport({
      clock,
      backups: [bag({ attestation: attestation(3 * DAY), restoreTests: [] })],
    })
    expectVerdicts(stale, {
      'backup.rpo': { status: 'not met', measured: 'newest verified backup 3 d (259200000 ms) old' },
      'backup.restoreTest': { status: 'partly met', measured: 'bags verified; no restore test recorded' },
    })
    const failedTest = buildEvidenceReport({
      clock,
      backups: [bag({ restoreTests: [{ name: 't', ok: false }] })],
    })
    expect(find(failedTest, 'backup.restoreTest').status).toBe('not met')
  })

  it('transit: each endpoint through the injected checker; a fail, an unreachable host or TLS 1.0 is not met', async () => {
    const checker: TransitChecker = async (host, port, { servername }) => {
      expect(servername).toBe(host)
      if (port === 1) throw new Error('ECONNREFUSED')
      if (host === 'old.example') return { verdict: 'pass', acceptedProtocols: ['TLSv1', 'TLSv1.2'] }
      if (host === 'soon.example') return { verdict: 'warn', reasons: ['certificate expires in 12 days'] }
      return { verdict: 'pass', acceptedProtocols: ['TLSv1.2', 'TLSv1.3'] }
    }
    const transit = await runTransitChecks(
      ['api.example:443', 'old.example:443', 'soon.example:8443', '127.0.0.1:1'],
      checker,
    )
    expect(transit[3]).toEqual({ endpoint: '127.0.0.1:1', verdict: 'fail', reasons: ['unreachable'] })
    const r = buildEvidenceReport({ clock, transit })
    expect(r.verdicts.map((v) => v.status)).toEqual(['met', 'not met', 'partly met', 'not met'])
    expect(find(r, 'transit[old.example:443]').remediation).toBe('Disable TLSv1 (tlsServerOptions()).')
    expect(r.specifications.find((s) => s.hipaa === '164.312(e)(2)(ii)')?.status).toBe('not met')
    await expect(runTransitChecks(['no-port'], checker)).rejects.toThrow(RangeError)
  })

  it('counts specifications per safeguard family; what the SDK cannot measure is app team', () => {
    const r = buildEvidenceReport({ clock, sessionPolicy: session(24 * HOUR), backups: [bag()] })
    const total = (f: keyof EvidenceReport['summary']) =>
      Object.values(r.summary[f]).reduce((a, b) => a + b, 0)
    for (const f of ['administrative', 'physical', 'technical'] as const)
      expect(total(f)).toBe(r.specifications.filter((s) => s.family === f).length)
    expect(r.summary.technical.notMet).toBe(1)
    expect(r.summary.physical.met).toBe(1) // 164.310(d)(2)(iv)
    expect(r.specifications.find((s) => s.hipaa === '164.310(a)(2)(ii)')).toMatchObject({
      status: 'app team',
      checks: [],
    })
  })

  it('renders one self-contained HTML page with an inline SVG chart and nothing external', () => {
    const r = buildEvidenceReport({
      clock,
      sessionPolicy: {
        ...session(24 * HOUR),
        roles: { '<script>x</script>': { idleTimeoutMs: 24 * HOUR, absoluteTimeoutMs: HOUR } },
      },
      backups: [bag()],
    })
    const html = renderEvidenceHtml(r)
    expect(html.startsWith('<!doctype html>')).toBe(true)
    expect(html).toContain('<svg xmlns="http://www.w3.org/2000/svg" role="img"')
    expect(html).toContain("default-src 'none'")
    expect(html).toContain('FAIL: not met in session')
    expect(html).toContain('&lt;script&gt;x&lt;/script&gt;')
    expect(html).not.toMatch(/<script|<link|<img|\bsrc=|\bhref=|url\(|@import/i)
    expect(html.replace('xmlns="http://www.w3.org/2000/svg"', '')).not.toMatch(/https?:/)
    expect(html).toContain('technical: 0 met, 0 partly met, 1 not met')
  })
})
