/**
 * Drives the clinic over HTTP on 127.0.0.1, as the walkthrough does: sign-in (with a replayed
 * TOTP code refused), role-based allow and deny, emergency access and its review, idle logoff,
 * PHI encrypted at rest, the audit log verifying, and the demo entry point exiting 0.
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { manualClock } from '@safeguards/core'
import { secretFromBase32, totpCode } from '@safeguards/mfa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningClinic, startClinic } from '../src/clinic.js'
import { client, signIn } from '../src/demo.js'
import { PATIENTS } from '../src/staff.js'
import { expectNightInDemo } from './night-output.js'
import { nurseEmergencyRequest } from './requests.js'

const clock = manualClock(Date.UTC(2026, 10, 22, 9, 0, 0))
let clinic: RunningClinic
let call: ReturnType<typeof client>

beforeAll(async () => {
  clinic = await startClinic({ clock, demo: { advance: (ms) => clock.advance(ms) } })
  call = client(clinic.url)
})
afterAll(async () => {
  await clinic?.stop()
})

const readAll = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? readAll(join(dir, d.name)) : [join(dir, d.name)],
  )

describe('sign-in', () => {
  it('needs the password and then a TOTP code; a replayed code and a wrong password are refused', async () => {
    const nurse = clinic.staff.find((s) => s.role === 'nurse')!
    expect((await call('POST', '/login', null, { username: nurse.username, password: 'x' })).status).toBe(401)
    expect((await call('POST', '/login', null, { username: 'nobody', password: 'x' })).status).toBe(401)
    expect((await call('POST', '/login', null, {})).status).toBe(401)
    clock.advance(30_000)
    const s1 = await call('POST', '/login', null, { username: nurse.username, password: nurse.password })
    expect(s1.status).toBe(200)
    expect(s1.body.token).toBeUndefined()
    const code = totpCode({ secret: secretFromBase32(nurse.totpSecret), time: clock.now() })
    const s2 = await call('POST', '/login/totp', null, { challenge: s1.body.challenge, code })
    expect(s2.status).toBe(200)
    expect(typeof s2.body.token).toBe('string')
    // The challenge is single use.
    expect((await call('POST', '/login/totp', null, { challenge: s1.body.challenge, code })).status).toBe(401)
    // A fresh challenge with the same code: replayed.
    const again = await call('POST', '/login', null, { username: nurse.username, password: nurse.password })
    const replay = await call('POST', '/login/totp', null, { challenge: again.body.challenge, code })
    expect(replay.status).toBe(401)
    expect(replay.body.reason).toBe('replayed')
    // No token, a forged token: unauthenticated.
    expect((await call('GET', '/api/patients/p-1/demographics')).status).toBe(401)
    expect((await call('GET', '/api/patients/p-1/demographics', 'forged')).status).toBe(401)
  })
})

describe('access control', () => {
  it('allows each role its part of the chart and denies the rest with a reason', async () => {
    const nurse = await signIn(clinic, 'nora.nurse')
    const front = await signIn(clinic, 'frank.front')
    const billing = await signIn(clinic, 'bill.billing')
    const ok = await call('GET', '/api/patients/p-1/clinical', nurse)
    expect(ok.status).toBe(200)
    expect(ok.body.fields).toEqual({
      diagnosis: 'Type 2 diabetes mellitus (E11.9)',
      notes: 'HbA1c 7.9%; metformin 500 mg twice daily',
    })
    const demo = await call('GET', '/api/patients/p-1/demographics', front)
    expect(Object.keys(demo.body.fields as object).sort()).toEqual(['birthDate', 'name', 'phone'])
    for (const [token, path] of [
      [front, '/api/patients/p-1/clinical'],
      [front, '/api/patients/p-1/billing'],
      [billing, '/api/patients/p-1/clinical'],
      [nurse, '/api/patients/p-2/clinical'], // not on the care team
      [nurse, '/api/patients/p-1/billing'],
    ] as const) {
      const r = await call('GET', path, token)
      expect(r.status, path).toBe(403)
      expect(r.body.reason).toBe('no_matching_allow')
      expect(r.body.fields).toBeUndefined()
    }
    expect((await call('GET', '/api/patients/p-1/billing', billing)).status).toBe(200)
    expect((await call('GET', '/api/patients/p-9/demographics', front)).status).toBe(404)
    expect((await call('GET', '/api/patients/..%2Fkeyring/demographics', front)).status).toBe(404)
    expect((await call('POST', '/api/admin/keys/rotate', nurse)).status).toBe(403)
    expect((await call('POST', '/api/admin/backups', billing)).status).toBe(403)
    expect((await call('GET', '/api/audit/verify', front)).status).toBe(403)
  })

  it('emergency access opens one patient, carries an audit obligation, and must be reviewed by someone else', async () => {
    const nurse = await signIn(clinic, 'nora.nurse')
    const front = await signIn(clinic, 'frank.front')
    const auditor = await signIn(clinic, 'ada.auditor')
    const refused = await call('POST', '/api/emergency-access', front, {
      patient: 'p-2',
      reasonCode: 'clinical-emergency',
      justification: 'Front desk is not eligible for emergency access.',
    })
    expect(refused.status).toBe(403)
    const grant = await call('POST', '/api/emergency-access', nurse, nurseEmergencyRequest)
    expect(grant.status).toBe(200)
    const id = grant.body.id as string
    const r = await call('GET', '/api/patients/p-2/clinical', nurse, undefined, { 'x-emergency-access': id })
    expect(r.status).toBe(200)
    expect((r.body.decision as { reason: string }).reason).toBe('emergency_access')
    expect((r.body.decision as { obligations: string[] }).obligations.length).toBeGreaterThan(0)
    expect(
      (await call('GET', '/api/patients/p-1/billing', nurse, undefined, { 'x-emergency-access': id })).status,
    ).toBe(403)
    // Someone else's grant id does not work for the front desk.
    expect(
      (await call('GET', '/api/patients/p-2/clinical', front, undefined, { 'x-emergency-access': id }))
        .status,
    ).toBe(403)
    // Active grants cannot be reviewed yet; the holder cannot review their own.
    expect((await call('POST', `/api/emergency-access/${id}/review`, auditor, { notes: 'ok' })).status).toBe(
      409,
    )
    expect((await call('POST', `/api/emergency-access/${id}/end`, nurse)).status).toBe(200)
    expect(
      (await call('GET', '/api/patients/p-2/clinical', nurse, undefined, { 'x-emergency-access': id }))
        .status,
    ).toBe(403)
    const pending = await call('GET', '/api/emergency-access/pending', auditor)
    expect((pending.body.pending as { id: string }[]).map((p) => p.id)).toContain(id)
    expect((await call('GET', '/api/emergency-access/pending', nurse)).status).toBe(403)
    const review = await call('POST', `/api/emergency-access/${id}/review`, auditor, {
      outcome: 'appropriate',
      notes: 'ED triage note confirms.',
    })
    expect(review.status).toBe(200)
    expect(
      (await call('POST', `/api/emergency-access/${id}/review`, auditor, { notes: 'again' })).status,
    ).toBe(409)
  })
})

describe('automatic logoff', () => {
  it('ends an idle session at 15 minutes; activity moves the deadline; logout ends it at once', async () => {
    const front = await signIn(clinic, 'frank.front')
    clock.advance(14 * 60_000)
    expect((await call('GET', '/api/patients/p-1/demographics', front)).status).toBe(200)
    clock.advance(14 * 60_000)
    expect((await call('GET', '/api/patients/p-1/demographics', front)).status).toBe(200)
    clock.advance(15 * 60_000)
    expect((await call('GET', '/api/patients/p-1/demographics', front)).status).toBe(401)
    const admin = await signIn(clinic, 'alan.admin')
    clock.advance(5 * 60_000) // admins: 5 minutes
    expect((await call('POST', '/api/admin/backups', admin)).status).toBe(401)
    const again = await signIn(clinic, 'frank.front')
    expect((await call('POST', '/api/logout', again)).status).toBe(200)
    expect((await call('GET', '/api/patients/p-1/demographics', again)).status).toBe(401)
  })

  it('the demo clock hook refuses malformed input', async () => {
    expect((await call('POST', '/_demo/clock', null, { advanceMs: -1 })).status).toBe(400)
    expect((await call('POST', '/_demo/clock', null, { advanceMs: 'x' })).status).toBe(400)
  })
})

describe('at rest', () => {
  it('keeps no PHI in plaintext anywhere in the data directory, before and after rotation and backup', async () => {
    const admin = await signIn(clinic, 'alan.admin')
    const rot = await call('POST', '/api/admin/keys/rotate', admin)
    expect(rot.status).toBe(200)
    // Per-patient keys: the rotation rewraps each patient's subject key (and the namespace key), no field.
    expect(rot.body.subjectKeys).toBe(Object.keys(PATIENTS).length + 1)
    expect(rot.body.rewrapped).toBe(0)
    const backup = await call('POST', '/api/admin/backups', admin)
    expect(backup.body.exitCode).toBe(0)
    const phi = [
      'Jane Doe',
      'John Roe',
      '1984-03-12',
      'E11.9',
      'I48.91',
      'metformin',
      'MBR-4411-9920',
      '+1-202-555-0100',
      '2025550100', // the phone's digits (the blind index never holds them)
      ...Object.values(PATIENTS).flatMap((fields) => Object.values(fields)), // every seeded value
    ]
    const files = readAll(clinic.dataDir)
    expect(files.length).toBeGreaterThan(10)
    for (const f of files) {
      const text = readFileSync(f, 'latin1')
      for (const p of phi) expect(text.includes(p), `${p} in ${f}`).toBe(false)
    }
    expect(statSync(join(clinic.dataDir, 'keyring.json')).mode & 0o077).toBe(0)
    const nurse = await signIn(clinic, 'nora.nurse')
    const r = await call('GET', '/api/patients/p-1/clinical', nurse)
    expect((r.body.fields as { diagnosis: string }).diagnosis).toBe('Type 2 diabetes mellitus (E11.9)')
  })
})

describe('audit', () => {
  it('records a chart read that failed to decrypt as a failure, after the attempt, and returns no data', async () => {
    // Regression: the read was recorded with outcome 0 before decryption, so a failed read
    // stood in the log as a successful one.
    const nurse = await signIn(clinic, 'nora.nurse')
    const file = join(clinic.paths.records, 'p-1.json')
    const original = readFileSync(file, 'utf8')
    const rec = JSON.parse(original) as { fields: Record<string, string> }
    const ct = Buffer.from(rec.fields.diagnosis!, 'base64')
    ct[ct.length - 1]! ^= 1
    rec.fields.diagnosis = ct.toString('base64')
    writeFileSync(file, JSON.stringify(rec))
    try {
      const r = await call('GET', '/api/patients/p-1/clinical', nurse)
      expect(r.status).toBe(500)
      expect(r.body).toEqual({ error: 'read_failed', code: 'ERR_ENVELOPE_DECRYPTION_FAILED' })
    } finally {
      writeFileSync(file, original)
    }
    const lines = readAll(clinic.paths.audit)
      .filter((f) => f.includes('segments') && f.endsWith('.jsonl'))
      .sort()
      .flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean))
    const reads = lines
      .map(
        (l) =>
          JSON.parse(l) as {
            event: { type: string; subtype?: string[]; outcome: number; outcomeCode?: string }
          },
      )
      .filter((r) => r.event.type === 'rest' && r.event.subtype?.[0] === 'read')
    expect(reads.at(-1)!.event).toMatchObject({ outcome: 8, outcomeCode: 'ERR_ENVELOPE_DECRYPTION_FAILED' })
    // And a good read after it is recorded as a success.
    expect((await call('GET', '/api/patients/p-1/clinical', nurse)).status).toBe(200)
  })

  it('records every access and the log verifies', async () => {
    const auditor = await signIn(clinic, 'ada.auditor')
    const v = await call('GET', '/api/audit/verify', auditor)
    expect(v.status).toBe(200)
    expect(v.body.ok).toBe(true)
    expect(v.body.findings).toEqual([])
    expect(v.body.records as number).toBeGreaterThan(40)
    const text = readAll(clinic.paths.audit)
      .map((f) => readFileSync(f, 'utf8'))
      .join('')
    expect(text).toContain('"outcomeCode":"no_matching_allow"')
    expect(text).toContain('"outcomeCode":"emergency_access"')
    expect(text).toContain('"outcomeCode":"replayed"')
    // The idle logoff: the session package's session.expired.idle, coded 110114 / 110123 Logout.
    expect(text).toMatch(
      /"details":\{"emitter":"@safeguards\/session","event":"session\.expired\.idle"[^}]*\}[^\n]*"subtype":\["110123"\],"type":"110114"/,
    )
    expect(text).not.toContain('"patient":"p-1"') // patients appear as keyed pseudonyms only
  })
})

describe('demo entry point', () => {
  it('runs the walkthrough end to end and exits 0', () => {
    const root = join(import.meta.dirname, '..')
    const { DATABASE_URL: _db, REDIS_URL: _redis, ...env } = process.env
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', '--conditions=@safeguards/source', 'src/demo.ts'],
      { cwd: root, encoding: 'utf8', timeout: 80_000, env },
    )
    expect(out).toContain('mode: embedded')
    expect(out).toContain('walkthrough complete.')
    expect(out).toContain('reason no_matching_allow')
    expect(out).toMatch(/front desk searches "\(202\) 555-0100": HTTP 200, patients \["p-1"\]/)
    expect(out).toContain('verify the copy: ok=false')
    expect(out).toContain('alert codes {"E_MISSING":1}')
    expectNightInDemo(out) // the monitor's findings, the proofs checked offline
    expect(out).toContain('the admin asks to shred p-4: HTTP 403')
    expect(out).toMatch(/confirmed: HTTP 200, subject key subject:\S+ destroyed/)
    expect(out).toContain('front desk reads p-4: HTTP 410 gone ERR_SUBJECT_SHREDDED')
    expect(out).toContain("front desk searches p-4's phone: patients []")
    expect(out).toMatch(/the audit log is not rewritten: verify ok=true, .* under the pseudonym ps:clinic:/)
  }, 85_000)
})
