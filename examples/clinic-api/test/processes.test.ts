/**
 * Two clinic server processes (`src/server.ts`, as an operator runs them) on the real PostgreSQL and
 * Redis, started at the same moment on random ports with one shared directory: they agree on the
 * secrets one of them created, a session and a sign-in challenge from one are honoured by the
 * other, a logout and a used TOTP code on one hold on the other, concurrent traffic to both lands
 * in one audit chain that verifies (through the API while the other instance writes, and directly
 * afterwards: contiguous, no fork, anchored to the end), and SIGTERM stops both with exit 0.
 * A schema, a Redis key prefix and directories of our own, removed afterwards.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createKeyring, directoryAnchor, verifyLog } from '@safeguards/audit-log'
import { openPostgresStore } from '@safeguards/audit-log-postgres'
import { bytesToHex, randomBytes } from '@safeguards/core'
import { secretFromBase32, totpCode } from '@safeguards/mfa'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { client } from '../src/demo.js'
import { removeSharedState } from '../src/shared-state.js'
import { databaseUrl, missingServices, redisUrl } from './services.js'

const missing = await missingServices('clinic-api two-process tests')
const id = bytesToHex(randomBytes(4))
const schema = `sg_clinic_proc_${id}`
const stream = `clinic-${id}`
const prefix = `sg-clinic-proc-${id}:`
const root = join(import.meta.dirname, '..')
const base = mkdtempSync(join(tmpdir(), 'sg-clinic-procs-'))
const sharedDir = join(base, 'shared')

interface Server {
  readonly child: ChildProcess
  readonly url: string
  readonly output: () => string
  readonly exited: Promise<number | null>
}

function startServer(name: string): Promise<Server> {
  const child = spawn(
    process.execPath,
    ['--conditions=@safeguards/source', '--import', 'tsx', 'src/server.ts'],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        REDIS_URL: redisUrl,
        HOST: '127.0.0.1',
        PORT: '0',
        CLINIC_DATA_DIR: join(base, `data-${name}`),
        CLINIC_SHARED_DIR: sharedDir,
        CLINIC_AUDIT_SCHEMA: schema,
        CLINIC_AUDIT_STREAM: stream,
        CLINIC_REDIS_PREFIX: prefix,
        // Timer checkpoints too, often, from both processes (besides every 16 records and on close).
        CLINIC_CHECKPOINT_MS: '100',
      },
    },
  )
  let out = ''
  child.stdout?.on('data', (c) => {
    out += c
  })
  child.stderr?.on('data', (c) => {
    out += c
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server ${name} did not start: ${out}`)), 60_000)
    const check = (): void => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+) /.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve({ child, url: m[1]!, output: () => out, exited })
      }
    }
    child.stdout?.on('data', check)
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`server ${name} exited ${code} before listening: ${out}`))
    })
  })
}

type Secrets = {
  checkpointPrivateJwk: { d?: string } & Record<string, unknown>
  staff: Record<string, { password: string; totpSecret: string }>
  pseudonymKey: string
  keyringSecret: string
}
let a: Server
let b: Server
let secrets: Secrets

/** Password on `first`, TOTP code on `second` (the challenge lives in Redis). */
async function signIn(username: string, first: Server, second: Server = first): Promise<string> {
  const cred = secrets.staff[username]!
  const s1 = await client(first.url)('POST', '/login', null, { username, password: cred.password })
  expect(s1.status).toBe(200)
  const code = totpCode({ secret: secretFromBase32(cred.totpSecret), time: Date.now() })
  const s2 = await client(second.url)('POST', '/login/totp', null, { challenge: s1.body.challenge, code })
  expect(s2.status, JSON.stringify(s2.body)).toBe(200)
  return s2.body.token as string
}

describe.skipIf(missing !== null)('two server processes on PostgreSQL and Redis', () => {
  beforeAll(async () => {
    // Started together: both race to create the shared secrets, keyring and records.
    ;[a, b] = await Promise.all([startServer('a'), startServer('b')])
    secrets = JSON.parse(readFileSync(join(sharedDir, 'secrets.json'), 'utf8')) as Secrets
  }, 90_000)
  afterAll(async () => {
    for (const s of [a, b]) if (s !== undefined && s.child.exitCode === null) s.child.kill('SIGKILL')
    await removeSharedState({ databaseUrl, redisUrl, schema, redisPrefix: prefix })
    rmSync(base, { recursive: true, force: true })
  })

  it('agree on the shared secrets and never print them', () => {
    expect(a.output()).toContain('mode=shared')
    const created = [a, b].filter((s) => s.output().includes('secrets created in')).length
    expect(created).toBe(1)
    const printed = a.output() + b.output()
    for (const cred of Object.values(secrets.staff)) {
      expect(printed).not.toContain(cred.password)
      expect(printed).not.toContain(cred.totpSecret)
    }
    expect(printed).not.toContain(secrets.pseudonymKey)
    expect(printed).not.toContain(secrets.keyringSecret)
    expect(printed).not.toContain(secrets.checkpointPrivateJwk.d)
  })

  it('a sign-in, a session and a logout hold across the processes; a used TOTP code too', async () => {
    const nurse = await signIn('nora.nurse', a, b) // password on A, TOTP on B
    expect((await client(a.url)('GET', '/api/patients/p-1/clinical', nurse)).status).toBe(200)
    const onB = await client(b.url)('GET', '/api/patients/p-1/clinical', nurse)
    expect(onB.status).toBe(200)
    expect((onB.body.fields as { diagnosis: string }).diagnosis).toBe('Type 2 diabetes mellitus (E11.9)')
    expect((await client(b.url)('POST', '/api/logout', nurse)).status).toBe(200)
    expect((await client(a.url)('GET', '/api/patients/p-1/clinical', nurse)).status).toBe(401)
    expect((await client(b.url)('GET', '/api/patients/p-1/clinical', nurse)).status).toBe(401)

    // The front desk's code, used on A, is refused on B with a fresh challenge.
    const cred = secrets.staff['frank.front']!
    const code = totpCode({ secret: secretFromBase32(cred.totpSecret), time: Date.now() })
    const c1 = await client(a.url)('POST', '/login', null, {
      username: 'frank.front',
      password: cred.password,
    })
    expect(
      (await client(a.url)('POST', '/login/totp', null, { challenge: c1.body.challenge, code })).status,
    ).toBe(200)
    const c2 = await client(b.url)('POST', '/login', null, {
      username: 'frank.front',
      password: cred.password,
    })
    const replay = await client(b.url)('POST', '/login/totp', null, { challenge: c2.body.challenge, code })
    expect(replay.status).toBe(401)
    expect(replay.body.reason).toBe('replayed')
    // A challenge is single use, on every instance.
    expect(
      (await client(b.url)('POST', '/login/totp', null, { challenge: c1.body.challenge, code })).status,
    ).toBe(401)
  })

  it('concurrent traffic to both lands in one audit chain that verifies, live and afterwards', async () => {
    const physician = await signIn('priya.physician', b)
    const auditor = await signIn('ada.auditor', a)
    const paths = [
      '/api/patients/p-1/clinical',
      '/api/patients/p-1/demographics',
      '/api/patients/p-1/billing',
    ]
    const burst = (n: number): Promise<number[]> =>
      Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const target = i % 2 === 0 ? a : b
          return (await client(target.url)('GET', paths[i % paths.length]!, physician)).status
        }),
      )
    // Verify on A while B (and A) take traffic: the API checkpoints and verifies the live stream.
    const [statuses, live] = await Promise.all([
      burst(120),
      (async () => {
        const out = []
        for (let i = 0; i < 4; i++) out.push(await client(a.url)('GET', '/api/audit/verify', auditor))
        return out
      })(),
    ])
    expect(statuses.filter((s) => s === 200).length).toBe(80)
    expect(statuses.filter((s) => s === 403).length).toBe(40) // billing: denied, and audited
    // While the other instance appends, records after the last anchored checkpoint are reported
    // as a warning (UNANCHORED_TAIL, true of a live log); anything else is a failure.
    type Finding = { code: string; severity: string }
    for (const v of [...live, await client(b.url)('GET', '/api/audit/verify', auditor)]) {
      expect(v.status).toBe(200)
      const findings = v.body.findings as Finding[]
      expect(findings.filter((f) => f.severity === 'error')).toEqual([])
      expect(findings.filter((f) => f.code !== 'UNANCHORED_TAIL')).toEqual([])
      expect(v.body.ok).toBe(true)
    }
    // Quiet now: a checkpoint covers everything, no finding at all.
    const quiet = await client(b.url)('GET', '/api/audit/verify', auditor)
    expect(quiet.body).toMatchObject({ ok: true, findings: [] })
    expect(quiet.body.records as number).toBeGreaterThan(130)
  })

  it('SIGTERM stops both with exit 0; the chain is single, contiguous, checkpointed and anchored to the end', async () => {
    a.child.kill('SIGTERM')
    b.child.kill('SIGTERM')
    expect(await a.exited, a.output()).toBe(0)
    expect(await b.exited, b.output()).toBe(0)
    expect(a.output()).toContain('clinic-api: stopped')
    expect(b.output()).toContain('clinic-api: stopped')

    const db = new pg.Client({ connectionString: databaseUrl })
    await db.connect()
    let rows: { n: number; prevs: number; min: number; max: number }[]
    try {
      ;({ rows } = await db.query(
        `SELECT count(*)::int AS n, count(DISTINCT prev_hash)::int AS prevs, min(seq)::int AS min, max(seq)::int AS max
           FROM "${schema}".audit_entry WHERE stream = $1`,
        [stream],
      ))
    } finally {
      await db.end()
    }
    const n = rows[0]!.n
    expect(rows[0]).toEqual({ n, prevs: n, min: 0, max: n - 1 }) // no gap, no fork

    const { d: _d, ...publicJwk } = secrets.checkpointPrivateJwk
    const store = await openPostgresStore({ connectionString: databaseUrl, schema, stream, readOnly: true })
    try {
      const report = await verifyLog(store, {
        keyring: await createKeyring([
          { publicJwk: publicJwk as Parameters<typeof createKeyring>[0][0]['publicJwk'] },
        ]),
        anchor: directoryAnchor(join(sharedDir, 'audit-anchor')),
        deep: true,
      })
      expect(report.findings).toEqual([])
      expect(report).toMatchObject({ ok: true, records: n, anchoredThrough: n - 1 })
      expect(report.checkpoints.verified).toBe(report.checkpoints.total)
    } finally {
      await store.close()
    }
  }, 60_000)
})
