/**
 * The walkthrough: starts the clinic on 127.0.0.1 (random port, manual clock, demo mode) and
 * drives it over HTTP with fetch, printing each step, the HIPAA safeguard and the evidence.
 *
 * With nothing set it runs on embedded defaults (one instance; files in a temporary data directory,
 * sessions in memory). With `DATABASE_URL` and `REDIS_URL` set it starts TWO instances on
 * PostgreSQL and Redis (a schema and a key prefix of its own, removed at the end) and also shows a
 * session and a logout crossing instances and one audit chain written by both.
 *
 * It ends at night: a nurse browses charts outside her care team and a password spray hits the
 * sign-in; the monitor flags both, the privacy officer dispositions them, and a patient's access
 * report lists every access to the chart, each row with a proof checked offline.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { bytesToHex, isSafeguardsError, manualClock, randomBytes } from '@safeguards/core'
import { secretFromBase32, totpCode } from '@safeguards/mfa'
import { openFindingStore } from '@safeguards/monitor'
import { type RunningClinic, type SharedStateOptions, STAFF_USERNAMES, startClinic } from './clinic.js'
import {
  advanceToNight,
  browseAtNight,
  checkedAccessReport,
  SPRAYED_USERNAMES,
  sprayPasswords,
} from './night.js'
import { generateClinicSecrets } from './secrets.js'
import { redactUrl } from './server.js'
import { removeSharedState } from './shared-state.js'
import { shredWalkthrough } from './shred-walkthrough.js'

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

/** Thrown for `DATABASE_URL` without `REDIS_URL` or the reverse. */
export class DemoConfigError extends Error {
  override readonly name = 'DemoConfigError'
}

/** Shared mode when both URLs are set, embedded when neither is. @throws {DemoConfigError} for one of them. */
export function demoShared(
  env: Readonly<Record<string, string | undefined>>,
): Pick<SharedStateOptions, 'databaseUrl' | 'redisUrl'> | null {
  const db = env.DATABASE_URL?.trim() ?? ''
  const redis = env.REDIS_URL?.trim() ?? ''
  if ((db === '') !== (redis === ''))
    throw new DemoConfigError(
      `${db === '' ? 'REDIS_URL is set but DATABASE_URL is not' : 'DATABASE_URL is set but REDIS_URL is not'}: set both to run on PostgreSQL and Redis, or neither for the embedded defaults`,
    )
  return db === '' ? null : { databaseUrl: db, redisUrl: redis }
}

type Step = (title: string, hipaa: string) => void

/** The night, the activity review and the access report (issue 16 §4; the scenario is `night.ts`). */
async function nightReview(clinic: RunningClinic, step: Step, say: (s: string) => void): Promise<void> {
  step(
    'At night: a nurse browses charts outside her care team; a password spray hits the sign-in',
    '164.308(a)(5)(ii)(C) log-in monitoring; 164.502(b) minimum necessary; 164.308(a)(3)(ii)(A) workforce supervision',
  )
  say(`the demo clock moves to ${new Date(await advanceToNight(clinic)).toISOString()}`)
  for (const r of await browseAtNight(clinic)) say(`nurse GET ${r.path}: HTTP ${r.status}`)
  const statuses = await sprayPasswords(clinic)
  say(
    `password spray: ${SPRAYED_USERNAMES.length} usernames (real and made up), one common password each, from one address: HTTP ${[...new Set(statuses)].join(', ')}; every attempt recorded with the caller's address, a made-up name as a keyed pseudonym`,
  )

  step(
    'Activity review: the monitor flags both; the privacy officer dispositions the findings',
    '164.308(a)(1)(ii)(D) information system activity review; 164.308(a)(6)(ii) response and reporting',
  )
  const result = await clinic.review.run()
  say(
    `reviewed ${result.records} records (seq ${result.firstSeq}-${result.lastSeq}) with the care-team resolver: ${result.findings.length} findings, ${result.damaged} damaged, ${result.unknown.total} undecided`,
  )
  for (const f of result.findings)
    say(
      `${f.detector} (${f.severity}) ${f.who ?? f.address}: ${f.count} record(s), seqs ${f.seqs.join(',')}${f.patients ? `, ${f.patients.length} patient(s)` : ''}, id ${f.id}`,
    )
  // The privacy officer's dispositions, kept in the findings store beside the clinic's data: a
  // re-run admits nothing new (no second alert), and nobody reviews a finding about themselves.
  const findings = await openFindingStore({ dir: join(clinic.dataDir, 'findings') })
  try {
    const fresh = await findings.admit(result.findings)
    const own = result.findings.find((f) => f.who === 'u-nurse')
    if (own !== undefined) {
      const refused = await findings.acknowledge(own.id, { disposition: 'appropriate', by: 'u-nurse' }).then(
        () => 'accepted',
        (e: unknown) => (isSafeguardsError(e) ? e.code : 'error'),
      )
      say(`the nurse tries to clear her own finding: ${refused}`)
    }
    for (const f of fresh) await findings.acknowledge(f.id, { disposition: 'inappropriate', by: 'u-auditor' })
    const again = await findings.admit((await clinic.review.run()).findings)
    say(
      `privacy officer (u-auditor) dispositions ${fresh.length} new findings as inappropriate; a second review admits ${again.length} new (no second alert)`,
    )
  } finally {
    await findings.close()
  }

  step(
    "A patient's access report: every access to the chart, each row with a proof checked offline",
    '164.312(b) audit controls; 164.308(a)(1)(ii)(D) activity review',
  )
  const { report, verdicts, tampered } = await checkedAccessReport(clinic, 'p-2')
  say(
    `access report for p-2 (stored as a pseudonym): ${report.rows.length} rows, proven against the signed checkpoint of size ${report.checkpoint?.size}`,
  )
  for (const [i, r] of report.rows.entries())
    say(
      `seq ${r.seq} ${r.time} ${r.who} ${r.action} ${r.interaction.join('/') || r.type} outcome ${r.outcome}${r.emergency ? ' BTG' : ''}: proof ${verdicts[i]?.valid ? 'ok' : 'REFUSED'}`,
    )
  say(
    `offline check with the checkpoint public key only: ${verdicts.filter((v) => v.valid).length}/${verdicts.length} proofs hold; a row with its outcome rewritten: ${tampered?.valid === false ? `refused (${tampered.reason})` : 'ACCEPTED'}`,
  )
}

/** Runs the walkthrough; `print` receives each line. */
export async function runDemo(
  print: (line: string) => void = console.log,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<void> {
  const urls = demoShared(env)
  const clock = manualClock(Date.UTC(2026, 10, 22, 9, 0, 0))
  const demo = { advance: (ms: number) => clock.advance(ms) }
  const step = (title: string, hipaa: string) => print(`\n■ ${title}\n  HIPAA: ${hipaa}`)
  const say = (s: string) => print(`  → ${s}`)
  // Shared mode: a schema, a stream and a key prefix of this run, a shared directory, two instances.
  const run = bytesToHex(randomBytes(4))
  const shared: SharedStateOptions | undefined = urls
    ? {
        ...urls,
        schema: `clinic_demo_${run}`,
        stream: `clinic-demo-${run}`,
        redisPrefix: `clinic-demo-${run}:`,
      }
    : undefined
  const sharedDir = shared ? mkdtempSync(join(tmpdir(), 'sg-clinic-demo-shared-')) : undefined
  const secrets = shared ? await generateClinicSecrets(STAFF_USERNAMES) : undefined
  const instances: RunningClinic[] = []
  const start = async (): Promise<RunningClinic> => {
    const c = await startClinic({
      clock,
      demo,
      ...(shared && sharedDir && secrets ? { shared, sharedDir, secrets } : {}),
    })
    instances.push(c)
    return c
  }
  try {
    const clinic = await start()
    const other = shared ? await start() : undefined
    const call = client(clinic.url)
    if (shared && other) {
      print(
        `mode: shared — audit log on PostgreSQL ${redactUrl(shared.databaseUrl)} (schema ${shared.schema}, removed at the end), sessions, TOTP state and sign-in challenges on Redis ${redactUrl(shared.redisUrl)} (prefix ${shared.redisPrefix}, removed at the end); two instances`,
      )
      print(
        `clinic-api instance A listening on ${clinic.url}, instance B on ${other.url} (shared dir ${sharedDir}, demo clock)`,
      )
    } else {
      print(
        'mode: embedded — audit log, keyring and records as files in a temporary data directory, sessions in memory (set DATABASE_URL and REDIS_URL for PostgreSQL, Redis and two instances)',
      )
      print(`clinic-api listening on ${clinic.url} (data dir ${clinic.dataDir}, demo clock)`)
    }

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
      'Lookup by phone number through a blind index over the encrypted phone',
      '164.312(a)(2)(iv) encryption and decryption; 164.502(b) minimum necessary; 164.312(b) audit controls',
    )
    const found = await call('GET', `/api/patients?phone=${encodeURIComponent('(202) 555-0100')}`, front)
    const p1 = JSON.parse(readFileSync(join(clinic.paths.records, 'p-1.json'), 'utf8')) as Json
    say(
      `front desk searches "(202) 555-0100": HTTP ${found.status}, patients ${JSON.stringify(found.body.patients)} (p-1's record holds phone_bidx "${p1.phone_bidx}" beside the encrypted phone; candidates are decrypted and compared; the audit record counts matches, never the number)`,
    )

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
    const billingRead = await call('GET', '/api/patients/p-1/billing', nurse, undefined, {
      'x-emergency-access': grant.body.id as string,
    })
    say(`the grant does not open billing data: HTTP ${billingRead.status}, reason ${billingRead.body.reason}`)
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

    if (other) {
      step(
        'Two instances, one state: a session, a sign-in and a logout cross instances',
        '164.312(a)(2)(iii) automatic logoff and session termination; 164.312(d) authentication',
      )
      const b = client(other.url)
      const seed = clinic.staff.find((x) => x.username === 'priya.physician')!
      await call('POST', '/_demo/clock', null, { advanceMs: 30_000 })
      const p1 = await call('POST', '/login', null, { username: seed.username, password: seed.password })
      const at = Date.parse((await call('POST', '/_demo/clock', null, { advanceMs: 0 })).body.now as string)
      const code = totpCode({ secret: secretFromBase32(seed.totpSecret), time: at })
      const p2 = await b('POST', '/login/totp', null, { challenge: p1.body.challenge, code })
      say(
        `physician: password on A (HTTP ${p1.status}), TOTP code on B (HTTP ${p2.status}): one sign-in across instances`,
      )
      const physician = p2.body.token as string
      say(
        `the session on A: HTTP ${(await call('GET', '/api/patients/p-1/clinical', physician)).status}; on B: HTTP ${(await b('GET', '/api/patients/p-1/clinical', physician)).status}`,
      )
      say(`logout on B: HTTP ${(await b('POST', '/api/logout', physician)).status}`)
      say(
        `the same token on A after the logout on B: HTTP ${(await call('GET', '/api/patients/p-1/clinical', physician)).status} (refused: the session is gone for every instance)`,
      )
    }

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
      `rotate: HTTP ${rot.status}, primary ${rot.body.primary}, ${rot.body.subjectKeys} subject keys rewrapped (each patient's key and their namespace key; ${rot.body.rewrapped} fields touched), v${rot.body.retiredVersion} retired`,
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
      `verify the live log${other ? ' (one PostgreSQL stream, written by both instances)' : ''}: ok=${v.body.ok}, ${v.body.records} records, checkpoints ${JSON.stringify(v.body.checkpoints)}`,
    )
    if (other) {
      const vb = await client(other.url)('GET', '/api/audit/verify', auditor2)
      say(
        `the same chain verified through B: ok=${vb.body.ok}, ${vb.body.records} records, findings ${JSON.stringify(vb.body.findings)}`,
      )
    }
    const copy = join(clinic.dataDir, 'audit-copy')
    await clinic.copyAuditLog(copy)
    const seg = join(copy, 'segments', readdirSync(join(copy, 'segments')).sort()[0]!)
    const lines = readFileSync(seg, 'utf8').split('\n')
    const i = lines.findIndex((l) => l.includes('"outcomeCode":"no_matching_allow"'))
    lines[i] = lines[i]!.replace('"outcome":4', '"outcome":0')
    writeFileSync(seg, lines.join('\n'))
    say(
      `tampered with a COPY${other ? ' (exported from PostgreSQL to files)' : ''}: the denied read at seq ${i} rewritten as a success`,
    )
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
    await nightReview(clinic, step, say)
    await shredWalkthrough(clinic, other, step, say)
    print('\nwalkthrough complete.')
  } finally {
    for (const c of instances) await c.stop()
    if (shared) await removeSharedState(shared)
    if (sharedDir) rmSync(sharedDir, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runDemo().then(
    () => process.exit(0),
    (e: unknown) => {
      if (e instanceof DemoConfigError) {
        console.error(`clinic-api demo: ${e.message}`)
        process.exit(2)
      }
      console.error(e)
      process.exit(1)
    },
  )
}
