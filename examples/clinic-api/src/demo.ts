/**
 * The walkthrough: starts the clinic on 127.0.0.1 (random port, manual clock, demo mode) and
 * drives it over HTTP with fetch, printing each step, the HIPAA safeguard and the evidence.
 */
import { cpSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { manualClock } from '@safeguards/core'
import { secretFromBase32, totpCode } from '@safeguards/mfa'
import { type RunningClinic, startClinic } from './clinic.js'

type Json = Record<string, unknown>

/** A small HTTP client for the clinic. */
export function client(url: string) {
  const call = async (
    method: string,
    path: string,
    token?: string | null,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    return { status: res.status, body: (await res.json()) as Json }
  }
  return call
}

/** Signs a seeded user in (password, then a fresh TOTP code). Advances the clock one TOTP step first. */
export async function signIn(clinic: RunningClinic, username: string): Promise<string> {
  const call = client(clinic.url)
  const user = clinic.staff.find((s) => s.username === username)!
  await call('POST', '/_demo/clock', null, { advanceMs: 30_000 })
  const step1 = await call('POST', '/login', null, { username, password: user.password })
  const now = Date.parse((await call('POST', '/_demo/clock', null, { advanceMs: 0 })).body.now as string)
  const code = totpCode({ secret: secretFromBase32(user.totpSecret), time: now })
  const step2 = await call('POST', '/login/totp', null, { challenge: step1.body.challenge, code })
  if (step2.status !== 200) throw new Error(`sign-in failed for ${username}: ${step2.status}`)
  return step2.body.token as string
}

/** Runs the walkthrough; `print` receives each line. */
export async function runDemo(print: (line: string) => void = console.log): Promise<void> {
  const clock = manualClock(Date.UTC(2026, 10, 22, 9, 0, 0))
  const clinic = await startClinic({ clock, demo: { advance: (ms) => clock.advance(ms) } })
  const call = client(clinic.url)
  const step = (title: string, hipaa: string) => print(`\n■ ${title}\n  HIPAA: ${hipaa}`)
  const say = (s: string) => print(`  → ${s}`)
  try {
    print(`clinic-api listening on ${clinic.url} (data dir ${clinic.dataDir}, demo clock)`)

    step(
      'Sign-in: password (argon2id), then a TOTP code; a replayed code is refused',
      '164.312(d) person or entity authentication; 164.308(a)(5)(ii)(D) password management',
    )
    const nurseSeed = clinic.staff.find((s) => s.role === 'nurse')!
    const bad = await call('POST', '/login', null, { username: nurseSeed.username, password: 'wrong' })
    say(`wrong password: HTTP ${bad.status} ${bad.body.error}`)
    await call('POST', '/_demo/clock', null, { advanceMs: 30_000 })
    const s1 = await call('POST', '/login', null, {
      username: nurseSeed.username,
      password: nurseSeed.password,
    })
    say(`password ok: HTTP ${s1.status}, second factor required=${s1.body.mfaRequired}`)
    const now = Date.parse((await call('POST', '/_demo/clock', null, { advanceMs: 0 })).body.now as string)
    const code = totpCode({ secret: secretFromBase32(nurseSeed.totpSecret), time: now })
    const s2 = await call('POST', '/login/totp', null, { challenge: s1.body.challenge, code })
    say(`TOTP ok: HTTP ${s2.status}, session token issued (${String(s2.body.token).length} chars)`)
    const nurse = s2.body.token as string
    const again = await call('POST', '/login', null, {
      username: nurseSeed.username,
      password: nurseSeed.password,
    })
    const replay = await call('POST', '/login/totp', null, { challenge: again.body.challenge, code })
    say(`same TOTP code replayed: HTTP ${replay.status} (${replay.body.reason})`)

    step(
      'Minimum necessary: each role reads only its part of the chart',
      '164.312(a)(1) access control; 164.308(a)(4) access authorization; 164.502(b) minimum necessary',
    )
    const front = await signIn(clinic, 'frank.front')
    const billing = await signIn(clinic, 'bill.billing')
    const show = async (who: string, token: string, path: string) => {
      const r = await call('GET', path, token)
      say(
        `${who} GET ${path}: HTTP ${r.status} ${r.status === 200 ? `fields ${Object.keys(r.body.fields as Json).join(', ')} by ${(r.body.decision as Json).rules}` : `denied, reason ${r.body.reason}`}`,
      )
    }
    await show('nurse (care team)', nurse, '/api/patients/p-1/clinical')
    await show('front desk', front, '/api/patients/p-1/demographics')
    await show('front desk', front, '/api/patients/p-1/clinical')
    await show('billing', billing, '/api/patients/p-1/billing')
    await show('billing', billing, '/api/patients/p-1/clinical')
    await show('nurse', nurse, '/api/patients/p-2/clinical')

    step(
      'Emergency access (break-glass): one patient, a reason, time-boxed, reviewed afterwards',
      '164.312(a)(2)(ii) emergency access procedure; 164.308(a)(1)(ii)(D) activity review',
    )
    const grant = await call('POST', '/api/emergency-access', nurse, {
      patient: 'p-2',
      reasonCode: 'clinical-emergency',
      justification: 'Patient collapsed in the waiting room; not yet assigned to a care team.',
      minutes: 30,
    })
    say(
      `grant for p-2: HTTP ${grant.status}, expires ${new Date(grant.body.expiresAt as number).toISOString()}`,
    )
    const bg = await call('GET', '/api/patients/p-2/clinical', nurse, undefined, {
      'x-emergency-access': grant.body.id as string,
    })
    say(
      `nurse reads p-2 with the grant: HTTP ${bg.status}, reason ${(bg.body.decision as Json).reason}, obligations ${(bg.body.decision as Json).obligations}`,
    )
    const other = await call('GET', '/api/patients/p-1/billing', nurse, undefined, {
      'x-emergency-access': grant.body.id as string,
    })
    say(`the grant does not open billing data: HTTP ${other.status}, reason ${other.body.reason}`)
    await call('POST', `/api/emergency-access/${grant.body.id}/end`, nurse)
    const auditor = await signIn(clinic, 'ada.auditor')
    const pending = await call('GET', '/api/emergency-access/pending', auditor)
    say(`auditor sees ${(pending.body.pending as Json[]).length} grant awaiting review`)
    const review = await call('POST', `/api/emergency-access/${grant.body.id}/review`, auditor, {
      outcome: 'appropriate',
      notes: 'ED triage note confirms.',
    })
    say(
      `review recorded: HTTP ${review.status}, outcome ${(review.body.review as Json).outcome}; pending now ${((await call('GET', '/api/emergency-access/pending', auditor)).body.pending as Json[]).length}`,
    )

    step(
      'Automatic logoff: an idle session ends (the demo clock jumps 15 minutes)',
      '164.312(a)(2)(iii) automatic logoff',
    )
    say(`front desk before: HTTP ${(await call('GET', '/api/patients/p-1/demographics', front)).status}`)
    await call('POST', '/_demo/clock', null, { advanceMs: 15 * 60_000 })
    say(
      `front desk after 15 idle minutes: HTTP ${(await call('GET', '/api/patients/p-1/demographics', front)).status} (signed out)`,
    )

    step(
      'Encryption at rest, key rotation and rewrap',
      '164.312(a)(2)(iv) encryption and decryption; 164.312(c)(1) integrity',
    )
    const onDisk = readdirSync(clinic.paths.records)
      .map((f) => readFileSync(join(clinic.paths.records, f), 'utf8'))
      .join('')
    say(
      `records on disk contain "Jane Doe": ${onDisk.includes('Jane Doe')}; "E11.9": ${onDisk.includes('E11.9')}`,
    )
    const admin = await signIn(clinic, 'alan.admin')
    const rot = await call('POST', '/api/admin/keys/rotate', admin)
    say(
      `rotate: HTTP ${rot.status}, primary ${rot.body.primary}, ${rot.body.rewrapped} fields rewrapped, v${rot.body.retiredVersion} retired`,
    )
    const nurse2 = await signIn(clinic, 'nora.nurse')
    const after = await call('GET', '/api/patients/p-1/clinical', nurse2)
    say(
      `chart still reads after rotation: HTTP ${after.status}, diagnosis "${(after.body.fields as Json).diagnosis}"`,
    )
    say(`nurse asks to rotate keys: HTTP ${(await call('POST', '/api/admin/keys/rotate', nurse2)).status}`)

    step(
      'Audit trail: every access recorded, hash-chained, signed checkpoints; tampering detected',
      '164.312(b) audit controls; 164.312(c)(1) integrity; 164.308(a)(1)(ii)(D) activity review',
    )
    const auditor2 = await signIn(clinic, 'ada.auditor')
    const v = await call('GET', '/api/audit/verify', auditor2)
    say(`nurse asks to verify the log: HTTP ${(await call('GET', '/api/audit/verify', nurse2)).status}`)
    say(
      `verify the live log: ok=${v.body.ok}, ${v.body.records} records, checkpoints ${JSON.stringify(v.body.checkpoints)}`,
    )
    const copy = join(clinic.dataDir, 'audit-copy')
    cpSync(clinic.paths.audit, copy, { recursive: true })
    const seg = join(copy, 'segments', readdirSync(join(copy, 'segments')).sort()[0]!)
    const lines = readFileSync(seg, 'utf8').split('\n')
    const i = lines.findIndex((l) => l.includes('"outcomeCode":"no_matching_allow"'))
    lines[i] = lines[i]!.replace('"outcome":4', '"outcome":0')
    writeFileSync(seg, lines.join('\n'))
    say(`tampered with a COPY: the denied read at seq ${i} rewritten as a success`)
    const t = await clinic.verifyAuditDir(copy)
    say(`verify the copy: ok=${t.ok}, first finding seq ${t.findings[0]?.seq} ${t.findings[0]?.code}`)

    step(
      'Backup and verify; an alert on a damaged copy',
      '164.308(a)(7)(ii)(A) data backup plan; 164.308(a)(7)(ii)(D) testing; 164.310(d)(2)(iv)',
    )
    const b = await call('POST', '/api/admin/backups', admin)
    say(
      `backup ${b.body.id}: ${b.body.files} files (encrypted records), signed, verified: ${b.body.status} (exit ${b.body.exitCode})`,
    )
    const damaged = join(clinic.paths.backups, 'damaged-copy')
    cpSync(join(clinic.paths.backups, b.body.id as string), damaged, { recursive: true })
    unlinkSync(join(damaged, 'data', readdirSync(join(damaged, 'data'))[0]!))
    const d = await call('POST', '/api/admin/backups/damaged-copy/verify', admin)
    say(
      `a copy with a file lost: ${d.body.status} (exit ${d.body.exitCode}), alert codes ${JSON.stringify(d.body.alert)}`,
    )
    print('\nwalkthrough complete.')
  } finally {
    await clinic.stop()
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runDemo().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e)
      process.exit(1)
    },
  )
}
