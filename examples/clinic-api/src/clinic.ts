/**
 * The clinic service: a small patient-records API on Hono, wired from every Safeguards package.
 * `createClinic` builds it on embedded defaults (files in a data directory, sessions in memory), or
 * on PostgreSQL and Redis so that several instances serve as one; `startClinic` serves it over HTTP
 * (127.0.0.1 unless told otherwise). `src/server.ts` runs it as a process from the environment.
 *
 * This file is the wiring: every package gets the audit sink of `@safeguards/audit-log` as its
 * `events` option (critical, so that an access that cannot be recorded fails closed, except for
 * rbac, which decides synchronously and takes it isolated), and the chart route emits the clinic's
 * own `record.accessed` events through the same sink. No event is mapped to an audit record here:
 * the sink's table does it.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serve } from '@hono/node-server'
import { type AuditLog, auditSink, createPseudonymizer, type VerifyReport } from '@safeguards/audit-log'
import { importSigningKey, importVerificationKeys } from '@safeguards/backup'
import {
  bytesToHex,
  type Clock,
  createEmitter,
  type EventSink,
  hmac,
  isSafeguardsError,
  randomBytes,
  systemClock,
  utf8Encode,
} from '@safeguards/core'
import { errorCode } from '@safeguards/core/node'
import { createEnvelope, createSubjectEnvelope, KeyringFileError, LocalKeyring } from '@safeguards/envelope'
import { securityHeaders } from '@safeguards/hono'
import { createMemoryStore, createRedisStore, createTotpVerifier, secretFromBase32 } from '@safeguards/mfa'
import { createPasswordHasher } from '@safeguards/password'
import { compilePolicy } from '@safeguards/rbac'
import { createSessionManager } from '@safeguards/session'
import { createRedisSessionStore } from '@safeguards/session-redis'
import { Hono } from 'hono'
import { openClinicAudit } from './audit.js'
import { connectRedis, memoryChallenges, type RedisClient, redisChallenges } from './challenges.js'
import { CLINIC_SOURCE, type ClinicApp, type ClinicServices } from './context.js'
import { CLINIC_SESSION_POLICY } from './evidence.js'
import { openGrantStore } from './grants.js'
import { mountLabResultRoutes, openLabResults } from './lab-results.js'
import {
  BLIND_INDEX_KEY_FILE,
  mountPatientSearchRoutes,
  openOrCreateIndexKey,
  openPatientSearch,
  rewrapIndexKey,
} from './patient-search.js'
import { clinicPolicy } from './policy.js'
import { openRecords, type RecordKeys } from './records.js'
import { type RequestContexts, requestContexts } from './request-context.js'
import { type ClinicReview, clinicReview } from './review.js'
import { mountAdminRoutes } from './routes/admin.js'
import { mountAuthRoutes } from './routes/auth.js'
import { mountChartRoutes } from './routes/charts.js'
import { mountEmergencyRoutes } from './routes/emergency.js'
import { type ClinicSecrets, generateClinicSecrets } from './secrets.js'
import { mountShredRoutes } from './shred.js'
import { MIN, STAFF, STAFF_USERNAMES, type StaffSeed } from './staff.js'
import { openClinicSubjectKeys } from './subject-keys.js'

export { STAFF_USERNAMES, type StaffSeed } from './staff.js'

/**
 * Shared state, so several instances serve as one: the audit log on PostgreSQL (one stream, one
 * chain), and sessions, TOTP replay state and sign-in challenges on Redis (a logout on one instance
 * holds on every other). Every instance must get the same values, and the same `secrets`,
 * `sharedDir` and `anchorDir` (see {@link ClinicOptions}).
 */
export interface SharedStateOptions {
  databaseUrl: string
  redisUrl: string
  /** The audit schema (created and migrated if missing). */
  schema: string
  /** The audit stream. */
  stream: string
  /** The prefix of every Redis key the clinic writes (sessions, TOTP state, challenges). */
  redisPrefix: string
}

/** Options of {@link createClinic}. */
export interface ClinicOptions {
  /** PostgreSQL and Redis instead of the embedded defaults (file log, in-memory sessions). */
  shared?: SharedStateOptions
  /** This instance's data directory (default: a fresh temporary directory, removed on close). */
  dataDir?: string
  /**
   * What every instance must see: the keyring file (`keyring.json`), the encrypted patient records
   * (`records/`) and, unless `anchorDir` says otherwise, the audit anchor (`audit-anchor/`).
   * Default: the data directory.
   */
  sharedDir?: string
  /** Where audit checkpoints are anchored (default `<sharedDir>/audit-anchor`). */
  anchorDir?: string
  /** The keys and seeded credentials (default: fresh ones for this run; see `secrets.ts`). */
  secrets?: ClinicSecrets
  /** Also checkpoint the audit log every this many milliseconds (default 0: every 16 records and on close only). */
  checkpointEveryMs?: number
  /** The clock (default the system clock). The demo and tests pass a manual clock. */
  clock?: Clock
  /** Demo mode: mounts `POST /_demo/clock` to advance a manual clock. Never in production. */
  demo?: { advance(ms: number): void }
  /**
   * Wraps what the audit sink appends to (for example to mirror records to a SIEM; the tests use it
   * to make the audit log fail). Default: the audit log itself.
   */
  wrapAuditLog?: (log: Pick<AuditLog, 'append'>) => Pick<AuditLog, 'append'>
}

/** A running clinic. */
export interface Clinic {
  readonly app: { fetch(request: Request): Response | Promise<Response> }
  readonly dataDir: string
  readonly staff: readonly StaffSeed[]
  /** Paths an operator (the demo) uses: the file audit log (embedded mode), its anchor, the records, the backups. */
  readonly paths: { audit: string; anchor: string; records: string; backups: string }
  /** Activity review of the audit log: the monitor, and patients' access reports with proofs. */
  readonly review: ClinicReview
  /** Verifies an audit log directory (for example a copy) with this clinic's checkpoint key. */
  verifyAuditDir(dir: string): Promise<VerifyReport>
  /**
   * Copies the audit log in use, records and stored checkpoints, into a file log at `dir` (an
   * export for offline review): the file log itself, or the PostgreSQL stream.
   */
  copyAuditLog(dir: string): Promise<void>
  /** Flushes the audit log (with a final checkpoint) and closes its store and the Redis client. */
  close(): Promise<void>
}

/** Opens the keyring file, or creates it; when two instances create it at once, one wins and both open it. */
async function openOrCreateKeyring(
  path: string,
  options: Parameters<typeof LocalKeyring.create>[1],
): Promise<LocalKeyring> {
  if (existsSync(path)) return LocalKeyring.open(path, options)
  try {
    return await LocalKeyring.create(path, options)
  } catch (e) {
    if (e instanceof KeyringFileError && existsSync(path)) return LocalKeyring.open(path, options)
    throw e
  }
}

/**
 * How a sign-in for an account that does not exist is recorded: as a keyed pseudonym of the name
 * typed, never the name itself (people type their password into the username field). Distinct names
 * stay distinct, so a password spray over made-up names is still counted account by account. The
 * key is derived from the pseudonym key for this one use (a username never shares a pseudonym with
 * a patient id).
 */
function unknownAccounts(pseudonymKey: Uint8Array): (username: string) => string {
  const key = hmac('sha256', pseudonymKey, utf8Encode('clinic-api.unknown-account.v1'))
  const ps = createPseudonymizer(key, { keyId: 'login' })
  return (username) => ps.pseudonym(`username:${username}`)
}

/** The directories of a clinic, created if missing (the file log's only in embedded mode). */
function clinicPaths(options: ClinicOptions, dataDir: string) {
  const sharedDir = options.sharedDir ?? dataDir
  const paths = {
    audit: join(dataDir, 'audit'),
    anchor: options.anchorDir ?? join(sharedDir, 'audit-anchor'),
    records: join(sharedDir, 'records'),
    backups: join(dataDir, 'backups'),
  }
  for (const [name, p] of Object.entries(paths))
    if (name !== 'audit' || !options.shared) mkdirSync(p, { recursive: true, mode: 0o700 })
  return { sharedDir, paths }
}

/** Seeds staff from the secrets: the password's argon2id verifier, and the TOTP secret. */
async function seedStaff(secrets: ClinicSecrets, hasher: ReturnType<typeof createPasswordHasher>) {
  // A real service enrols each user with `createTotpAuthenticator`, which keeps the secret sealed.
  const staff: StaffSeed[] = []
  const verifiers = new Map<string, string>()
  const totpSecrets = new Map<string, Uint8Array>()
  for (const s of STAFF) {
    const cred = secrets.staff[s.username]
    if (cred === undefined) throw new Error('the secrets have no credentials for a seeded user')
    verifiers.set(s.username, await hasher.hash(cred.password))
    totpSecrets.set(s.id, secretFromBase32(cred.totpSecret))
    staff.push({ id: s.id, username: s.username, role: s.role, ...cred })
  }
  return { staff, verifiers, totpSecrets }
}

/**
 * Sessions, TOTP replay state and sign-in challenges: in Redis when shared (a logout or a used code
 * on one instance holds on every other), else in memory. Sessions and TOTP report to `audit`.
 */
function signInState(
  redis: RedisClient | undefined,
  shared: SharedStateOptions | undefined,
  clock: Clock,
  audit: EventSink,
) {
  const r = redis && shared ? { redis, prefix: shared.redisPrefix } : undefined
  return {
    sessions: createSessionManager({
      ...(r ? { store: createRedisSessionStore({ client: r.redis, prefix: `${r.prefix}sessions:` }) } : {}),
      clock,
      ...CLINIC_SESSION_POLICY, // the policy the evidence step judges (evidence.ts)
      events: audit,
    }),
    // TOTP: each code is accepted once per user (the used time step is kept in the store), failures throttled.
    totp: createTotpVerifier({
      store: r
        ? createRedisStore({ client: r.redis, prefix: `${r.prefix}mfa:` })
        : createMemoryStore({ clock }),
      clock,
      events: audit,
    }),
    challenges: r ? redisChallenges(r.redis, `${r.prefix}challenge:`) : memoryChallenges(clock),
  }
}

/** The Hono app: a request id on every request, the routes, and 503 when an audit record failed. */
function clinicApp(
  s: ClinicServices,
  admin: Parameters<typeof mountAdminRoutes>[2],
  demo: ClinicOptions['demo'],
  requests: RequestContexts,
) {
  const app: ClinicApp = new Hono()
  // HSTS, a locked-down CSP, nosniff, no-store on every response, refusals and errors included.
  app.use('*', securityHeaders())
  // Then: the caller's address, for the audit records the request's operations write.
  app.use('*', requests.middleware)
  app.use('*', async (c, next) => {
    c.set('requestId', bytesToHex(randomBytes(8)))
    await next()
  })
  // A critical audit sink failed: the operation did not complete and no data leaves (fail closed).
  app.onError((e, c) => {
    if (isSafeguardsError(e, 'ERR_EVENT_SINK')) return c.json({ error: 'audit_unavailable' }, 503)
    console.error(`request failed (${errorCode(e) ?? 'error'})`)
    return c.json({ error: 'internal' }, 500)
  })
  if (demo)
    // Demo mode only: lets the walkthrough move the injected clock. Not mounted otherwise.
    app.post('/_demo/clock', async (c) => {
      const body = (await c.req.json().catch(() => null)) as { advanceMs?: unknown } | null
      const ms = body?.advanceMs
      if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0 || ms > 24 * 60 * MIN)
        return c.json({ error: 'bad_request' }, 400)
      demo.advance(ms)
      return c.json({ now: new Date(s.clock.now()).toISOString() })
    })
  mountAuthRoutes(app, s)
  mountChartRoutes(app, s)
  mountEmergencyRoutes(app, s)
  mountAdminRoutes(app, s, admin)
  return app
}

/**
 * Builds the clinic: keyring, audit log, sessions, MFA, policy, seeded staff and patients.
 *
 * HIPAA: 164.312(a)(1) access control, 164.312(b) audit controls, 164.312(d) authentication,
 * 164.312(a)(2)(iii) automatic logoff, 164.312(a)(2)(iv) encryption, 164.308(a)(7) backups.
 */
export async function createClinic(options: ClinicOptions = {}): Promise<Clinic> {
  const clock = options.clock ?? systemClock
  const ownDir = options.dataDir === undefined
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'sg-clinic-'))
  const { sharedDir, paths } = clinicPaths(options, dataDir)
  const shared = options.shared
  const secrets = options.secrets ?? (await generateClinicSecrets(STAFF_USERNAMES))

  const auditLog = await openClinicAudit({
    dir: paths.audit,
    anchorDir: paths.anchor,
    shared,
    secrets,
    checkpointEveryMs: options.checkpointEveryMs ?? 0,
    clock,
  })
  const { log } = auditLog
  // The one audit sink (patients recorded as keyed pseudonyms, the caller's address on every
  // record written while serving a request), critical; rbac takes it isolated.
  const requests = requestContexts()
  const pseudonymize = createPseudonymizer(secrets.pseudonymKey, { keyId: 'clinic' })
  const sinkOptions = { source: CLINIC_SOURCE, pseudonymize, network: requests.network }
  const target = options.wrapAuditLog?.(log) ?? log
  const audit = auditSink(target, sinkOptions)
  const isolated = auditSink(target, { ...sinkOptions, critical: false })
  const onSinkError = (e: unknown) => console.error(`audit record not written (${errorCode(e) ?? 'error'})`)

  let redis: RedisClient | undefined
  let grants: Awaited<ReturnType<typeof openGrantStore>>
  try {
    redis = shared ? await connectRedis(shared.redisUrl) : undefined
    grants = await openGrantStore(shared)
  } catch (e) {
    await redis?.close()
    await log.close()
    throw e
  }

  // Envelope encryption: a keyring file in the shared directory, sealed by a secret every instance
  // has (a real deployment keeps it in a KMS/HSM or a secret manager).
  const keyring = await openOrCreateKeyring(join(sharedDir, 'keyring.json'), {
    name: 'patients',
    masterSecret: { env: 'CLINIC_KEYRING_SECRET' },
    env: { CLINIC_KEYRING_SECRET: secrets.keyringSecret },
    clock,
    events: audit,
  })
  // Each patient's fields under that patient's own key (crypto-shredding), wrapped by the keyring.
  const subjectKeys = await openClinicSubjectKeys({ sharedDir, shared, kek: keyring, clock, events: audit })
  const recordKeys: RecordKeys = {
    subjects: createSubjectEnvelope({ subjects: subjectKeys.keys, clock, events: audit }),
    keys: subjectKeys.keys,
    reader: createEnvelope({ providers: [subjectKeys.keys.provider, keyring], clock, events: audit }),
    legacy: { envelope: createEnvelope({ provider: keyring, clock, events: audit }), providerId: keyring.id },
  }
  const hasher = createPasswordHasher({ clock, events: audit })
  const seeded = await seedStaff(secrets, hasher)
  const careTeam = new Set(STAFF.flatMap((s) => s.careTeam.map((p) => `${s.id}:${p}`)))
  const services: ClinicServices = {
    clock,
    events: createEmitter({ events: audit }),
    audit,
    log,
    store: auditLog.store,
    pdp: compilePolicy(clinicPolicy, {
      clock,
      resolvers: { careTeam: (r) => careTeam.has(`${r.subject.id}:${r.resource.patient}`) },
      ...(grants.store ? { emergencyStore: grants.store } : {}),
      events: isolated,
      onSinkError,
    }),
    keyring,
    records: await openRecords(paths.records, recordKeys),
    ...signInState(redis, shared, clock, audit),
    hasher,
    verifiers: seeded.verifiers,
    totpSecrets: seeded.totpSecrets,
    unknownAccount: unknownAccounts(secrets.pseudonymKey),
  }
  // Lookup by phone through a blind index; its root key wrapped by the keyring, beside it.
  const indexKeyFile = join(sharedDir, BLIND_INDEX_KEY_FILE)
  const indexKey = await openOrCreateIndexKey(indexKeyFile, keyring)
  const search = await openPatientSearch({ dir: paths.records, key: indexKey, envelope: recordKeys.reader })
  indexKey.destroy() // the phone index keeps its own derived key
  const app = clinicApp(
    services,
    {
      audit: auditLog,
      dataDir,
      paths,
      // Backups: the clinic's signing key (shared, so any instance verifies any bag).
      backupSigning: await importSigningKey(secrets.backupKey.privateJwk),
      backupPublic: await importVerificationKeys(secrets.backupKey.publicJwk),
      rewrapIndexKey: () => rewrapIndexKey(indexKeyFile, keyring),
    },
    options.demo,
    requests,
  )
  // Lab results sent to patients, sealed to their public key and the archive (HPKE).
  const labResults = await openLabResults(join(sharedDir, 'lab-results'))
  mountLabResultRoutes(app, services, labResults)
  mountPatientSearchRoutes(app, services, search)
  // Erasure on request: the privacy officer asks, confirms, and the patient's key is destroyed.
  mountShredRoutes(app, services, {
    subjects: subjectKeys.keys,
    search,
    labResults,
    confirmations:
      redis && shared ? redisChallenges(redis, `${shared.redisPrefix}shred:`) : memoryChallenges(clock),
  })

  return {
    app,
    dataDir,
    staff: seeded.staff,
    paths,
    review: clinicReview({
      log,
      store: auditLog.store,
      pseudonymize,
      checkpointKey: secrets.checkpointKey.publicJwk,
    }),
    verifyAuditDir: (dir) => auditLog.verifyDir(dir),
    copyAuditLog: (dir) => auditLog.copyTo(dir),
    async close() {
      try {
        await log.close()
      } finally {
        await subjectKeys.close()
        await grants.close()
        await redis?.close()
        if (ownDir) rmSync(dataDir, { recursive: true, force: true })
      }
    },
  }
}

/** A clinic served on 127.0.0.1. */
export interface RunningClinic extends Clinic {
  readonly url: string
  stop(): Promise<void>
}

/** Starts the clinic over HTTP on `hostname` (default 127.0.0.1) and `port` (default: a random free one). */
export async function startClinic(
  options: ClinicOptions & { port?: number; hostname?: string } = {},
): Promise<RunningClinic> {
  const clinic = await createClinic(options)
  const hostname = options.hostname ?? '127.0.0.1'
  let server: ReturnType<typeof serve>
  let port: number
  try {
    ;({ server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>(
      (resolve, reject) => {
        const server = serve(
          { fetch: clinic.app.fetch, hostname, port: options.port ?? 0 },
          (info: AddressInfo) => resolve({ server, port: info.port }),
        )
        server.once('error', reject)
      },
    ))
  } catch (e) {
    await clinic.close()
    throw e
  }
  const host = hostname.includes(':') ? `[${hostname}]` : hostname
  return {
    ...clinic,
    url: `http://${host}:${port}`,
    async stop() {
      // Stop accepting, let requests in flight finish (idle keep-alive sockets are closed), then
      // flush and close the audit log (final checkpoint), the stores and the Redis client.
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        ;(server as { closeIdleConnections?: () => void }).closeIdleConnections?.()
      })
      await clinic.close()
    },
  }
}
