/**
 * The clinic service: a small patient-records API on Hono, wired from every Safeguards package.
 * `createClinic` builds it on embedded defaults (files in a data directory, sessions in memory), or
 * on PostgreSQL and Redis so that several instances serve as one; `startClinic` serves it over HTTP
 * (127.0.0.1 unless told otherwise). `src/server.ts` runs it as a process from the environment.
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serve } from '@hono/node-server'
import { createClient } from '@redis/client'
import {
  type AuditEvent,
  type AuditStore,
  createCheckpointSigner,
  createKeyring,
  createPseudonymizer,
  directoryAnchor,
  openAuditLog,
  openFileStore,
  type VerifyReport,
  verifyLog,
} from '@safeguards/audit-log'
import { openPostgresStore } from '@safeguards/audit-log-postgres'
import {
  alertFromReport,
  createBag,
  importSigningKey,
  importVerificationKeys,
  verifyBag,
} from '@safeguards/backup'
import {
  base64ToBytes,
  bytesToBase64,
  bytesToHex,
  type Clock,
  isSafeguardsError,
  randomBytes,
  sha256,
  systemClock,
  utf8Decode,
  utf8Encode,
} from '@safeguards/core'
import { createEnvelope, KeyringFileError, LocalKeyring } from '@safeguards/envelope'
import { createMemoryStore, createRedisStore, createTotpVerifier, secretFromBase32 } from '@safeguards/mfa'
import { createPasswordHasher } from '@safeguards/password'
import { compilePolicy } from '@safeguards/rbac'
import { createSessionManager } from '@safeguards/session'
import { createRedisSessionStore } from '@safeguards/session-redis'
import { Hono } from 'hono'
import { clinicPolicy, type Role } from './policy.js'
import { type ClinicSecrets, generateClinicSecrets } from './secrets.js'
import { writeOnce } from './write-once.js'

const TENANT = 'clinic-a'
const MIN = 60_000

/** A seeded staff account. */
export interface StaffSeed {
  readonly id: string
  readonly username: string
  readonly role: Role
  /** The password, returned to the in-process caller only (the demo and tests play the user). */
  readonly password: string
  /** The TOTP secret (base32), for the same reason. */
  readonly totpSecret: string
}

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
}

/** A running clinic. */
export interface Clinic {
  readonly app: { fetch(request: Request): Response | Promise<Response> }
  readonly dataDir: string
  readonly staff: readonly StaffSeed[]
  /** Paths an operator (the demo) uses: the file audit log (embedded mode), its anchor, the records, the backups. */
  readonly paths: { audit: string; anchor: string; records: string; backups: string }
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

/** Pending second factors: challenge → user, single use, with an expiry. */
interface ChallengeStore {
  put(challenge: string, userId: string, ttlMs: number): Promise<void>
  /** The user of a live challenge, consuming it; null when unknown, used or expired. */
  take(challenge: string): Promise<string | null>
}

function memoryChallenges(clock: Clock): ChallengeStore {
  const map = new Map<string, { userId: string; expiresAt: number }>()
  return {
    async put(challenge, userId, ttlMs) {
      map.set(challenge, { userId, expiresAt: clock.now() + ttlMs })
    },
    async take(challenge) {
      const c = map.get(challenge)
      map.delete(challenge)
      return c === undefined || c.expiresAt <= clock.now() ? null : c.userId
    },
  }
}

const connectRedis = (url: string) => createClient({ url }).connect()
type RedisClient = Awaited<ReturnType<typeof connectRedis>>

/** Challenges in Redis: the password step on one instance, the TOTP step on another. */
function redisChallenges(redis: RedisClient, prefix: string): ChallengeStore {
  // The key is a hash of the challenge: the bearer value itself is never stored.
  const key = (c: string): string => `${prefix}${bytesToHex(sha256(utf8Encode(c)))}`
  return {
    async put(challenge, userId, ttlMs) {
      await redis.set(key(challenge), userId, { expiration: { type: 'PX', value: ttlMs }, condition: 'NX' })
    },
    async take(challenge) {
      if (!/^[0-9a-f]{64}$/.test(challenge)) return null
      const v = await redis.getDel(key(challenge))
      return typeof v === 'string' ? v : null
    },
  }
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

interface PatientRecord {
  id: string
  /** Each PHI field is an envelope (base64), bound to table, column and row. */
  fields: Record<string, string>
}

const FIELD_RESOURCE: Record<string, string> = {
  name: 'Demographics',
  birthDate: 'Demographics',
  phone: 'Demographics',
  diagnosis: 'Clinical',
  notes: 'Clinical',
  insuranceId: 'Billing',
}

const PATIENTS: Record<string, Record<string, string>> = {
  'p-1': {
    name: 'Jane Doe',
    birthDate: '1984-03-12',
    phone: '+1-555-0100',
    diagnosis: 'Type 2 diabetes mellitus (E11.9)',
    notes: 'HbA1c 7.9%; metformin 500 mg twice daily',
    insuranceId: 'MBR-4411-9920',
  },
  'p-2': {
    name: 'John Roe',
    birthDate: '1959-11-02',
    phone: '+1-555-0199',
    diagnosis: 'Atrial fibrillation (I48.91)',
    notes: 'Apixaban 5 mg twice daily; last INR n/a',
    insuranceId: 'MBR-7730-1184',
  },
}

const STAFF: readonly { id: string; username: string; role: Role; careTeam: string[] }[] = [
  { id: 'u-front', username: 'frank.front', role: 'front_desk', careTeam: [] },
  { id: 'u-nurse', username: 'nora.nurse', role: 'nurse', careTeam: ['p-1'] },
  { id: 'u-doc', username: 'priya.physician', role: 'physician', careTeam: ['p-1'] },
  { id: 'u-billing', username: 'bill.billing', role: 'billing', careTeam: [] },
  { id: 'u-auditor', username: 'ada.auditor', role: 'auditor', careTeam: [] },
  { id: 'u-admin', username: 'alan.admin', role: 'admin', careTeam: [] },
]

/** The usernames of the seeded staff (the keys of `ClinicSecrets.staff`). */
export const STAFF_USERNAMES: readonly string[] = STAFF.map((s) => s.username)

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
  const sharedDir = options.sharedDir ?? dataDir
  const paths = {
    audit: join(dataDir, 'audit'),
    anchor: options.anchorDir ?? join(sharedDir, 'audit-anchor'),
    records: join(sharedDir, 'records'),
    backups: join(dataDir, 'backups'),
  }
  const shared = options.shared
  for (const [name, p] of Object.entries(paths))
    if (name !== 'audit' || !shared) mkdirSync(p, { recursive: true, mode: 0o700 })
  const secrets = options.secrets ?? (await generateClinicSecrets(STAFF_USERNAMES))

  // Envelope encryption: a keyring file in the shared directory, sealed by a secret every instance
  // has (a real deployment keeps it in a KMS/HSM or a secret manager).
  const keyring = await openOrCreateKeyring(join(sharedDir, 'keyring.json'), {
    name: 'patients',
    masterSecret: { env: 'CLINIC_KEYRING_SECRET' },
    env: { CLINIC_KEYRING_SECRET: secrets.keyringSecret },
    clock,
  })
  const envelope = createEnvelope({ provider: keyring })

  // The audit log: hash-chained records (a file store, or one PostgreSQL stream for every
  // instance), signed checkpoints, an anchor directory.
  const auditKeyring = await createKeyring([{ publicJwk: secrets.checkpointKey.publicJwk }])
  const store: AuditStore = shared
    ? await openPostgresStore({
        connectionString: shared.databaseUrl,
        schema: shared.schema,
        stream: shared.stream,
        migrate: true,
        maxConnections: 2,
      })
    : await openFileStore({ dir: paths.audit, stream: 'clinic-api' })
  const log = await openAuditLog({
    store,
    signer: await createCheckpointSigner(secrets.checkpointKey.privateJwk),
    anchor: directoryAnchor(paths.anchor),
    checkpointEvery: { records: 16, ms: options.checkpointEveryMs ?? 0 },
    clock,
    onError: (e) => console.error(`audit checkpoint failed (${(e as { code?: string }).code ?? 'error'})`),
  })
  const pseudonyms = createPseudonymizer(secrets.pseudonymKey, { keyId: 'clinic' })
  const audit = async (e: Omit<AuditEvent, 'source'>): Promise<void> => {
    await log.append({ ...e, source: { observer: 'clinic-api' } })
  }

  let redis: RedisClient | undefined
  try {
    redis = shared ? await connectRedis(shared.redisUrl) : undefined
  } catch (e) {
    await log.close()
    throw e
  }
  const sessions = createSessionManager({
    ...(redis && shared
      ? { store: createRedisSessionStore({ client: redis, prefix: `${shared.redisPrefix}sessions:` }) }
      : {}),
    clock,
    idleTimeoutMs: 15 * MIN,
    absoluteTimeoutMs: 12 * 60 * MIN,
    roles: { admin: { idleTimeoutMs: 5 * MIN, absoluteTimeoutMs: 4 * 60 * MIN } },
    events: (e) => {
      // An expiry's reason is in its type (session.expired.idle): keep it as the outcome code.
      const code = e.type.startsWith('session.expired.') ? e.type.slice('session.expired.'.length) : e.code
      return audit({
        type: 'session',
        subtype: [e.type],
        action: 'E',
        outcome: 0,
        ...(code === undefined ? {} : { outcomeCode: code }),
        agents: [{ who: `Practitioner/${e.actor}`, requestor: true }],
      })
    },
  })

  // TOTP: each code is accepted once per user (the used time step is kept in the store: in Redis
  // when shared, so a code used on one instance is refused on the others), failures throttled.
  const totp = createTotpVerifier({
    store:
      redis && shared
        ? createRedisStore({ client: redis, prefix: `${shared.redisPrefix}mfa:` })
        : createMemoryStore({ clock }),
    clock,
  })
  const challenges =
    redis && shared ? redisChallenges(redis, `${shared.redisPrefix}challenge:`) : memoryChallenges(clock)
  const hasher = createPasswordHasher()

  const careTeam = new Set(STAFF.flatMap((s) => s.careTeam.map((p) => `${s.id}:${p}`)))
  const pdp = compilePolicy(clinicPolicy, {
    clock,
    resolvers: { careTeam: (r) => careTeam.has(`${r.subject.id}:${r.resource.patient}`) },
  })

  // Seed staff from the secrets: the password's argon2id verifier, and the TOTP secret (a real
  // service enrols each user with `createTotpAuthenticator`, which keeps the secret sealed).
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

  // Seed patients once (the first instance to start writes each record whole; the others keep it),
  // every PHI field encrypted under its own data key, bound to table/column/row.
  const recordPath = (id: string): string => join(paths.records, `${id}.json`)
  const ctx = (row: string, column: string) => ({ table: 'patients', column, row })
  for (const [id, fields] of Object.entries(PATIENTS)) {
    if (existsSync(recordPath(id))) continue
    const enc: Record<string, string> = {}
    for (const [k, v] of Object.entries(fields))
      enc[k] = bytesToBase64(await envelope.encrypt(utf8Encode(v), ctx(id, k)))
    writeOnce(recordPath(id), utf8Encode(JSON.stringify({ id, fields: enc } satisfies PatientRecord)))
  }
  const loadRecord = (id: string): PatientRecord | null => {
    if (!/^p-[0-9]{1,6}$/.test(id)) return null
    try {
      return JSON.parse(readFileSync(recordPath(id), 'utf8')) as PatientRecord
    } catch {
      return null
    }
  }

  const byUsername = new Map(STAFF.map((s) => [s.username, s]))
  const byId = new Map(STAFF.map((s) => [s.id, s]))

  // Backups: the clinic's signing key (shared, so any instance verifies any bag).
  const backupSigning = await importSigningKey(secrets.backupKey.privateJwk)
  const backupPublic = await importVerificationKeys(secrets.backupKey.publicJwk)

  type Vars = { Variables: { user: (typeof STAFF)[number]; requestId: string } }
  const app = new Hono<Vars>()

  app.use('*', async (c, next) => {
    c.set('requestId', bytesToHex(randomBytes(8)))
    await next()
  })

  const bearer = (h: string | undefined): string | null =>
    h?.startsWith('Bearer ') === true ? h.slice(7) : null

  app.post('/login', async (c) => {
    const body = (await c.req.json().catch(() => null)) as { username?: unknown; password?: unknown } | null
    const username = typeof body?.username === 'string' ? body.username : ''
    const password = typeof body?.password === 'string' ? body.password : ''
    const user = byUsername.get(username)
    const stored = user ? verifiers.get(username) : undefined
    // An unknown user costs the same argon2id work as a known one (no user enumeration by timing).
    let ok = false
    if (stored) ok = (await hasher.verify(stored, password)).valid
    else await hasher.dummyVerify(password)
    await audit({
      type: 'login',
      subtype: ['password'],
      action: 'E',
      outcome: ok ? 0 : 4,
      ...(ok ? {} : { outcomeCode: 'bad_credentials' }),
      agents: [{ who: user ? `Practitioner/${user.id}` : 'unknown-user', requestor: true }],
      requestId: c.get('requestId'),
    })
    if (!ok || !user) return c.json({ error: 'invalid_credentials' }, 401)
    const challenge = bytesToHex(randomBytes(32))
    await challenges.put(challenge, user.id, 5 * MIN)
    return c.json({ mfaRequired: true, challenge })
  })

  app.post('/login/totp', async (c) => {
    const body = (await c.req.json().catch(() => null)) as { challenge?: unknown; code?: unknown } | null
    const challenge = typeof body?.challenge === 'string' ? body.challenge : ''
    const code = typeof body?.code === 'string' ? body.code : ''
    const userId = challenge === '' ? null : await challenges.take(challenge)
    const user = userId === null ? undefined : byId.get(userId)
    if (!user) return c.json({ error: 'invalid_challenge' }, 401)
    const r = await totp.verify(`totp-${user.id}`, totpSecrets.get(user.id)!, code, { throttleKey: user.id })
    await audit({
      type: 'login',
      subtype: ['totp'],
      action: 'E',
      outcome: r.valid ? 0 : 4,
      ...(r.valid ? {} : { outcomeCode: String((r as { reason?: string }).reason ?? 'invalid') }),
      agents: [{ who: `Practitioner/${user.id}`, requestor: true }],
      requestId: c.get('requestId'),
    })
    if (!r.valid) return c.json({ error: 'invalid_code', reason: (r as { reason?: string }).reason }, 401)
    const { token, session } = await sessions.create(user.id, { role: user.role })
    return c.json({ token, role: user.role, idleExpiresAt: session.idleExpiresAt })
  })

  if (options.demo) {
    const demo = options.demo
    // Demo mode only: lets the walkthrough move the injected clock. Not mounted otherwise.
    app.post('/_demo/clock', async (c) => {
      const body = (await c.req.json().catch(() => null)) as { advanceMs?: unknown } | null
      const ms = body?.advanceMs
      if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0 || ms > 24 * 60 * MIN)
        return c.json({ error: 'bad_request' }, 400)
      demo.advance(ms)
      return c.json({ now: new Date(clock.now()).toISOString() })
    })
  }

  // Everything below needs a live session; a real request moves the idle deadline.
  app.use('/api/*', async (c, next) => {
    const token = bearer(c.req.header('authorization'))
    const session = token === null ? null : await sessions.validate(token)
    if (!session) return c.json({ error: 'unauthenticated' }, 401)
    c.set('user', byId.get(session.userId)!)
    return next()
  })

  const subjectOf = (u: (typeof STAFF)[number]) => ({ id: u.id, tenant: TENANT, roles: [u.role] })

  app.post('/api/logout', async (c) => {
    await sessions.revoke(bearer(c.req.header('authorization')))
    return c.json({ ok: true })
  })

  // Reads one section of a chart: only the fields of that section (minimum necessary).
  app.get('/api/patients/:id/:section{demographics|clinical|billing}', async (c) => {
    const user = c.get('user')
    const id = c.req.param('id')
    const section = c.req.param('section')
    const type = section === 'demographics' ? 'Demographics' : section === 'clinical' ? 'Clinical' : 'Billing'
    const grantId = c.req.header('x-emergency-access')
    const decision = pdp.decide({
      subject: subjectOf(user),
      action: 'read',
      resource: { type, tenant: TENANT, patient: id },
      ...(grantId ? { emergencyAccess: grantId } : {}),
    })
    const record = loadRecord(id)
    const emergency = decision.reason === 'emergency_access'
    // Decrypt first, then record what really happened, then answer: no field leaves without its
    // audit record (an append that fails throws here and the client gets no data), and a read
    // that failed is recorded as a failure (FHIR AuditEvent.outcome 8, serious failure).
    let fields: Record<string, string> | undefined
    let failure: string | undefined
    if (decision.allowed && record) {
      try {
        const out: Record<string, string> = {}
        for (const [k, v] of Object.entries(record.fields))
          if (FIELD_RESOURCE[k] === type)
            out[k] = utf8Decode(await envelope.decrypt(base64ToBytes(v), ctx(id, k)))
        fields = out
      } catch (e) {
        failure = isSafeguardsError(e) ? e.code : 'read_failed'
      }
    }
    await audit({
      type: 'rest',
      subtype: ['read'],
      action: 'R',
      outcome: !decision.allowed || !record ? 4 : failure === undefined ? 0 : 8,
      outcomeCode: !record ? 'not_found' : (failure ?? decision.reason),
      agents: [{ who: `Practitioner/${user.id}`, requestor: true }],
      patient: pseudonyms.pseudonym(id),
      entities: [{ what: `${type}/${pseudonyms.pseudonym(id).slice(0, 16)}` }],
      requestId: c.get('requestId'),
      ...(emergency ? { details: { emergency: 1 } } : {}),
    })
    if (!decision.allowed) return c.json({ error: 'forbidden', reason: decision.reason }, 403)
    if (!record) return c.json({ error: 'not_found' }, 404)
    if (fields === undefined) return c.json({ error: 'read_failed', code: failure }, 500)
    const out = fields
    return c.json({
      patient: id,
      section,
      fields: out,
      decision: {
        reason: decision.reason,
        rules: decision.rules.map((r) => r.id),
        obligations: decision.obligations.map((o) => o.id),
      },
    })
  })

  // Emergency access (break-glass): one patient, a coded reason, a justification, reviewed later.
  app.post('/api/emergency-access', async (c) => {
    const user = c.get('user')
    const body = (await c.req.json().catch(() => null)) as {
      patient?: unknown
      reasonCode?: unknown
      justification?: unknown
      minutes?: unknown
    } | null
    try {
      const grant = pdp.emergency.grant({
        subject: subjectOf(user),
        patient: String(body?.patient ?? ''),
        actions: ['read'],
        reasonCode: String(body?.reasonCode ?? ''),
        justification: String(body?.justification ?? ''),
        minutes: typeof body?.minutes === 'number' ? body.minutes : 30,
      })
      await audit({
        type: 'emergency-access',
        subtype: ['grant'],
        action: 'C',
        outcome: 0,
        outcomeCode: grant.reasonCode,
        agents: [{ who: `Practitioner/${user.id}`, requestor: true }],
        patient: pseudonyms.pseudonym(grant.patient),
        requestId: c.get('requestId'),
      })
      return c.json({ id: grant.id, expiresAt: grant.expiresAt, patient: grant.patient })
    } catch (e) {
      await audit({
        type: 'emergency-access',
        subtype: ['grant'],
        action: 'C',
        outcome: 4,
        outcomeCode: (e as { code?: string }).code ?? 'error',
        agents: [{ who: `Practitioner/${user.id}`, requestor: true }],
        requestId: c.get('requestId'),
      })
      return c.json({ error: 'refused', code: (e as { code?: string }).code }, 403)
    }
  })

  app.post('/api/emergency-access/:id/end', async (c) => {
    const user = c.get('user')
    const grant = pdp.emergency.get(c.req.param('id'))
    if (!grant || grant.subject !== user.id) return c.json({ error: 'not_found' }, 404)
    try {
      pdp.emergency.revoke(grant.id, user.id)
    } catch (e) {
      return c.json({ error: 'conflict', code: (e as { code?: string }).code }, 409)
    }
    await audit({
      type: 'emergency-access',
      subtype: ['end'],
      action: 'U',
      outcome: 0,
      agents: [{ who: `Practitioner/${user.id}`, requestor: true }],
      patient: pseudonyms.pseudonym(grant.patient),
      requestId: c.get('requestId'),
    })
    return c.json({ ok: true })
  })

  const allowed = (user: (typeof STAFF)[number], action: string, type: string) =>
    pdp.decide({ subject: subjectOf(user), action, resource: { type, tenant: TENANT } })

  const gate = async (
    user: (typeof STAFF)[number],
    action: string,
    type: string,
    requestId: string,
  ): Promise<{ ok: true } | { ok: false; reason: string }> => {
    const d = allowed(user, action, type)
    await audit({
      type: 'admin',
      subtype: [`${type}.${action}`],
      action: 'E',
      outcome: d.allowed ? 0 : 4,
      outcomeCode: d.reason,
      agents: [{ who: `Practitioner/${user.id}`, requestor: true }],
      requestId,
    })
    return d.allowed ? { ok: true } : { ok: false, reason: d.reason }
  }

  app.get('/api/emergency-access/pending', async (c) => {
    const g = await gate(c.get('user'), 'read', 'EmergencyGrant', c.get('requestId'))
    if (!g.ok) return c.json({ error: 'forbidden', reason: g.reason }, 403)
    return c.json({
      pending: pdp.emergency.pendingReviews().map((x) => ({
        id: x.id,
        subject: x.subject,
        patient: x.patient,
        reasonCode: x.reasonCode,
        justification: x.justification,
        issuedAt: x.issuedAt,
        ended: x.revoked?.at ?? x.expiresAt,
      })),
    })
  })

  app.post('/api/emergency-access/:id/review', async (c) => {
    const user = c.get('user')
    const g = await gate(user, 'review', 'EmergencyGrant', c.get('requestId'))
    if (!g.ok) return c.json({ error: 'forbidden', reason: g.reason }, 403)
    const body = (await c.req.json().catch(() => null)) as { outcome?: unknown; notes?: unknown } | null
    try {
      const r = pdp.emergency.review(c.req.param('id'), {
        reviewer: user.id,
        outcome: body?.outcome === 'inappropriate' ? 'inappropriate' : 'appropriate',
        notes: String(body?.notes ?? ''),
      })
      return c.json({ id: r.id, review: r.review })
    } catch (e) {
      return c.json({ error: 'conflict', code: (e as { code?: string }).code }, 409)
    }
  })

  const verifyAuditDir = async (dir: string): Promise<VerifyReport> =>
    verifyLog(await openFileStore({ dir, readOnly: true }), {
      keyring: auditKeyring,
      anchor: directoryAnchor(paths.anchor),
    })

  // Verifies the log in use: the file store, or the PostgreSQL stream read only.
  const verifyAuditLog = async (): Promise<VerifyReport> => {
    if (!shared) return verifyAuditDir(paths.audit)
    const store = await openPostgresStore({
      connectionString: shared.databaseUrl,
      schema: shared.schema,
      stream: shared.stream,
      readOnly: true,
      maxConnections: 1,
    })
    try {
      return await verifyLog(store, { keyring: auditKeyring, anchor: directoryAnchor(paths.anchor) })
    } finally {
      await store.close()
    }
  }

  app.get('/api/audit/verify', async (c) => {
    const g = await gate(c.get('user'), 'verify', 'AuditEvent', c.get('requestId'))
    if (!g.ok) return c.json({ error: 'forbidden', reason: g.reason }, 403)
    await log.checkpoint()
    const r = await verifyAuditLog()
    return c.json({
      ok: r.ok,
      records: r.records,
      checkpoints: r.checkpoints,
      anchoredThrough: r.anchoredThrough,
      findings: r.findings.map((f) => ({ seq: f.seq, code: f.code, severity: f.severity })),
    })
  })

  // Key rotation: add and promote a new KEK version, then rewrap every field (headers only).
  app.post('/api/admin/keys/rotate', async (c) => {
    const g = await gate(c.get('user'), 'rotate', 'Key', c.get('requestId'))
    if (!g.ok) return c.json({ error: 'forbidden', reason: g.reason }, 403)
    const next = await keyring.addVersion()
    await keyring.promote(next.version)
    let rewrapped = 0
    for (const file of readdirSync(paths.records)) {
      const rec = JSON.parse(readFileSync(join(paths.records, file), 'utf8')) as PatientRecord
      for (const [k, v] of Object.entries(rec.fields)) {
        const ct = base64ToBytes(v)
        if (await envelope.needsRewrap(ct)) {
          rec.fields[k] = bytesToBase64(await envelope.rewrap(ct, ctx(rec.id, k)))
          rewrapped++
        }
      }
      writeFileSync(join(paths.records, file), JSON.stringify(rec), { mode: 0o600 })
    }
    const retired = next.version - 1
    await keyring.retire(retired)
    return c.json({ primary: next.keyRef, rewrapped, retiredVersion: retired })
  })

  // Backup: bag the encrypted records (never plaintext), sign, verify immediately.
  app.post('/api/admin/backups', async (c) => {
    const g = await gate(c.get('user'), 'backup', 'Backup', c.get('requestId'))
    if (!g.ok) return c.json({ error: 'forbidden', reason: g.reason }, 403)
    const id = `b-${bytesToHex(randomBytes(4))}`
    const staging = join(dataDir, `staging-${id}`)
    cpSync(paths.records, staging, { recursive: true })
    const bag = await createBag(staging, join(paths.backups, id), {
      signingKey: backupSigning,
      backupSetId: 'clinic-nightly',
      clock,
      move: true,
    })
    rmSync(staging, { recursive: true, force: true })
    return c.json({ id, files: bag.files, ...(await verifyBackup(id)) })
  })

  const verifyBackup = async (id: string) => {
    const v = await verifyBag(join(paths.backups, id), {
      publicKeys: backupPublic,
      requireSignature: true,
      maxAgeMs: 36 * 60 * MIN,
      clock,
    })
    const alert = v.report.exitCode === 0 ? null : alertFromReport(v.report)
    return { status: v.report.status, exitCode: v.report.exitCode, alert: alert?.codes ?? null }
  }

  app.post('/api/admin/backups/:id/verify', async (c) => {
    const g = await gate(c.get('user'), 'backup', 'Backup', c.get('requestId'))
    if (!g.ok) return c.json({ error: 'forbidden', reason: g.reason }, 403)
    const id = c.req.param('id')
    if (!/^[a-z0-9-]{1,64}$/.test(id) || !readdirSync(paths.backups).includes(id))
      return c.json({ error: 'not_found' }, 404)
    return c.json({ id, ...(await verifyBackup(id)) })
  })

  // An export reads the stored checkpoints first, then the records: every checkpoint copied
  // covers records that are copied too, even while other instances keep appending.
  const copyAuditLog = async (dir: string): Promise<void> => {
    if (!shared) {
      cpSync(paths.audit, dir, { recursive: true })
      return
    }
    const checkpoints = await store.readCheckpoints()
    const copy = await openFileStore({ dir, stream: store.stream })
    try {
      let head = await copy.head()
      for await (const r of store.read(0)) {
        const hash = sha256(new Uint8Array([0, ...r.bytes]))
        head = await copy.append(head, [{ seq: r.seq, bytes: r.bytes, hash, prevHash: head.hash }])
      }
      for (const [i, cp] of checkpoints.entries()) await copy.appendCheckpoint(i, cp)
    } finally {
      await copy.close()
    }
  }

  return {
    app,
    dataDir,
    staff,
    paths,
    verifyAuditDir,
    copyAuditLog,
    async close() {
      try {
        await log.close()
      } finally {
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
