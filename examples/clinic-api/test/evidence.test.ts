/**
 * The clinic's evidence step (`src/evidence.ts`, issue 18 §2): on the clinic's own artefacts, the
 * session policy it loads passes (nothing not met; the declared password and MFA policies partly
 * met), and a 24-hour idle timeout exits 1 naming the control, the value, the threshold and the fix.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { manualClock } from '@safeguards/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startClinic } from '../src/clinic.js'
import { client, signIn } from '../src/demo.js'
import { type ClinicArtefacts, clinicEvidence } from '../src/evidence.js'
import { generateClinicSecrets } from '../src/secrets.js'
import { STAFF_USERNAMES } from '../src/staff.js'

let root = ''
let artefacts: ClinicArtefacts

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sg-clinic-evidence-'))
  const secrets = await generateClinicSecrets(STAFF_USERNAMES)
  // The report is dated by the system clock: the clinic's clock starts now.
  const clock = manualClock(Date.now())
  const clinic = await startClinic({
    clock,
    dataDir: join(root, 'data'),
    secrets,
    demo: { advance: (ms) => clock.advance(ms) },
  })
  try {
    const call = client(clinic.url)
    const nurse = await signIn(clinic, 'nora.nurse')
    expect((await call('GET', '/api/patients/p-1/clinical', nurse)).status).toBe(200)
    const admin = await signIn(clinic, 'alan.admin')
    const bag = await call('POST', '/api/admin/backups', admin)
    expect(bag.status).toBe(200)
    artefacts = { dataDir: clinic.dataDir, paths: clinic.paths, secrets, bagId: bag.body.id as string }
  } finally {
    await clinic.stop()
  }
}, 60_000)
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe("the clinic's evidence", () => {
  it('passes with the policy the service loads: nothing not met, declared values partly met', async () => {
    const r = await clinicEvidence(artefacts, join(root, 'ok'))
    expect(r.code, r.stderr).toBe(0)
    const status = Object.fromEntries(r.report.verdicts.map((v) => [v.check, v.status]))
    expect(status).toMatchObject({
      'session.idleTimeout[nurse]': 'met',
      'auditLog.integrity': 'met',
      'auditLog.signatures': 'met',
      'auditLog.anchor': 'met',
      'activityReview.period': 'met',
      'backup.rpo': 'met',
      'password.minLength': 'partly met', // declared by flags
      'mfa.phiRoles': 'partly met', // declared by flags
    })
    expect(Object.values(status)).not.toContain('not met')
    const html = readFileSync(join(root, 'ok', 'evidence.html'), 'utf8')
    expect(html).toContain('PASS: nothing is not met')
  }, 60_000)

  it('a 24-hour idle timeout exits 1 and names the control, the value, the threshold and the fix', async () => {
    const day = 24 * 60 * 60_000
    const r = await clinicEvidence(artefacts, join(root, 'idle-24h'), {
      idleTimeoutMs: day,
      absoluteTimeoutMs: day,
    })
    expect(r.code).toBe(1)
    expect(r.report.failures).toEqual(['session'])
    expect(r.stderr).toContain(
      'not met: 164.312(a)(2)(iii) session.idleTimeout[nurse]: role nurse: idle 1 d (86400000 ms); ' +
        'threshold idle ≤ 15 min (900000 ms) for roles with PHI access ' +
        '(NIST SP 800-63B rev 4 §2.3.3 (AAL3 inactivity); HIPAA 164.312(a)(2)(iii)); ' +
        'fix: Set idleTimeoutMs of the default to at most 900000 (15 min) in the session policy.',
    )
    const md = readFileSync(join(root, 'idle-24h', 'evidence.md'), 'utf8')
    expect(md).toContain('Result: **FAIL** (not met: session)')
    expect(md).toContain('| ✗ not met | 164.312(a)(2)(iii) | `session.idleTimeout\\[nurse\\]` |')
  }, 60_000)
})
