import { AsyncLocalStorage } from 'node:async_hooks'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  createEmitter,
  criticalSink,
  EventSinkError,
  isSafeguardsError,
  type SafeguardEvent,
  type SafeguardEventOf,
  type SafeguardEventType,
  safeguardEventTypes,
  utf8Decode,
} from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import {
  type AuditEvent,
  type AuditLog,
  auditEventOf,
  auditSink,
  auditSinkTable,
  createPseudonymizer,
  openAuditLog,
  openFileStore,
  validateEvent,
  verifyLog,
} from '../src/index.js'
import { tempDir } from './helpers.js'

const at = Date.UTC(2026, 0, 2, 3, 4, 5, 6)
const base = { at, actor: 'user/u-1' } as const
const session = { sessionId: 'a'.repeat(64), role: 'doctor' } as const
const access = { action: 'read', resourceType: 'Observation', resourceId: 'o-9', tenant: 't1' } as const

/** One sample of every event type (the `satisfies` fails when a type has none). */
const samples = {
  'session.created': { ...session, source: '@safeguards/session', outcome: 'success' },
  'session.rotated': {
    ...session,
    source: '@safeguards/session',
    outcome: 'success',
    previousSessionId: 'b'.repeat(64),
  },
  'session.expired.idle': { ...session, source: '@safeguards/session', outcome: 'success', code: 'idle' },
  'session.expired.absolute': { ...session, source: '@safeguards/session', outcome: 'success' },
  'session.revoked': { ...session, source: '@safeguards/session', outcome: 'success', code: 'logout' },
  'auth.password.succeeded': { source: '@safeguards/password', outcome: 'success' },
  'auth.password.failed': { source: '@safeguards/password', outcome: 'failure', code: 'mismatch' },
  'auth.totp.succeeded': { source: '@safeguards/mfa', outcome: 'success', credentialId: 'c1' },
  'auth.totp.failed': { source: '@safeguards/mfa', outcome: 'failure', code: 'invalid', credentialId: 'c1' },
  'auth.totp.replayed': { source: '@safeguards/mfa', outcome: 'failure', credentialId: 'c1' },
  'auth.locked': { source: '@safeguards/mfa', outcome: 'success', counts: { failures: 5 } },
  'auth.recovery-code.used': { source: '@safeguards/mfa', outcome: 'success', counts: { remaining: 9 } },
  'auth.factor.enrolled': { source: '@safeguards/mfa', outcome: 'success', credentialId: 'c2' },
  'auth.factor.removed': { source: '@safeguards/mfa', outcome: 'success', credentialId: 'c2' },
  'access.allowed': { ...access, source: '@safeguards/rbac', outcome: 'success', subject: 'MRN-1' },
  'access.denied': { ...access, source: '@safeguards/rbac', outcome: 'failure', code: 'no_matching_allow' },
  'record.accessed': { ...access, action: 'update', source: 'clinic', outcome: 'success', subject: 'MRN-1' },
  'access.emergency.granted': {
    source: '@safeguards/rbac',
    outcome: 'success',
    grantId: 'g1',
    expiresAt: at + 1,
  },
  'access.emergency.used': { ...access, source: '@safeguards/rbac', outcome: 'success', grantId: 'g1' },
  'access.emergency.reviewed': {
    source: '@safeguards/rbac',
    outcome: 'success',
    grantId: 'g1',
    code: 'appropriate',
  },
  'access.emergency.revoked': { source: '@safeguards/rbac', outcome: 'success', grantId: 'g1' },
  'access.emergency.approved': { source: '@safeguards/rbac', outcome: 'success', grantId: 'g1' },
  'access.emergency.review-overdue': {
    source: '@safeguards/rbac',
    outcome: 'failure',
    grantId: 'g1',
    reviewDueAt: 2,
  },
  'key.created': { source: '@safeguards/envelope', outcome: 'success', keyRef: 'local:default@v2' },
  'key.rotated': { source: '@safeguards/envelope', outcome: 'success', keyRef: 'local:default@v2' },
  'key.retired': { source: '@safeguards/envelope', outcome: 'success', keyRef: 'local:default@v1' },
  'key.disabled': { source: '@safeguards/envelope', outcome: 'success', keyRef: 'local:default@v1' },
  'key.enabled': { source: '@safeguards/envelope', outcome: 'success', keyRef: 'local:default@v1' },
  'key.destroyed': { source: '@safeguards/envelope', outcome: 'success', keyRef: 'local:default@v1' },
  'key.budget.warning': {
    source: '@safeguards/envelope',
    outcome: 'success',
    keyRef: 'local:default@v2',
    counts: { wraps: 9, limit: 10 },
  },
  'envelope.decrypt.failed': {
    source: '@safeguards/envelope',
    outcome: 'failure',
    code: 'ERR_ENVELOPE_DECRYPTION_FAILED',
    keyRefs: ['local:default@v1', 'local:default@v2'],
    contextKeys: ['patient'],
  },
  'backup.verified': {
    source: '@safeguards/backup',
    outcome: 'success',
    bagId: 'bag-1',
    counts: { files: 3 },
  },
  'backup.failed': {
    source: '@safeguards/backup',
    outcome: 'failure',
    code: 'HASH_MISMATCH',
    bagId: 'bag-1',
  },
  'audit.verified': {
    source: '@safeguards/audit-log',
    outcome: 'success',
    stream: 'ehr',
    counts: { records: 4 },
  },
  'audit.finding': {
    source: '@safeguards/audit-log',
    outcome: 'failure',
    stream: 'ehr',
    severity: 'error',
    code: 'HASH_MISMATCH',
    counts: { seq: 3 },
  },
} satisfies { [T in SafeguardEventType]: Omit<SafeguardEventOf<T>, 'type' | 'at'> }

function sample<T extends SafeguardEventType>(type: T): SafeguardEventOf<T> {
  return { ...base, type, ...samples[type] } as unknown as SafeguardEventOf<T>
}

/**
 * The codes each type must get (the table written out again, independently of the source):
 * type, DICOM subtype or interaction (null: none), action, outcome of the sample, BTG.
 */
const expected: Record<SafeguardEventType, readonly [string, string | null, string, number, true?]> = {
  'session.created': ['110114', '110122', 'E', 0],
  'session.rotated': ['110114', '110122', 'E', 0],
  'session.expired.idle': ['110114', '110123', 'E', 0],
  'session.expired.absolute': ['110114', '110123', 'E', 0],
  'session.revoked': ['110114', '110123', 'E', 0],
  'auth.password.succeeded': ['110114', '110122', 'E', 0],
  'auth.password.failed': ['110114', '110122', 'E', 4],
  'auth.totp.succeeded': ['110114', '110122', 'E', 0],
  'auth.totp.failed': ['110114', '110122', 'E', 4],
  'auth.totp.replayed': ['110113', null, 'E', 8],
  'auth.locked': ['110113', '110137', 'U', 0],
  'auth.recovery-code.used': ['110114', '110122', 'E', 0],
  'auth.factor.enrolled': ['110113', '110137', 'C', 0],
  'auth.factor.removed': ['110113', '110137', 'D', 0],
  'access.allowed': ['rest', 'read', 'R', 0],
  'access.denied': ['rest', 'read', 'R', 4],
  'record.accessed': ['rest', 'update', 'U', 0],
  'access.emergency.granted': ['110113', '110127', 'E', 0, true],
  'access.emergency.used': ['rest', 'read', 'R', 0, true],
  'access.emergency.reviewed': ['110113', null, 'E', 0, true],
  'access.emergency.revoked': ['110113', '110138', 'E', 0, true],
  'access.emergency.approved': ['110113', '110127', 'E', 0, true],
  'access.emergency.review-overdue': ['110113', null, 'E', 4, true],
  'key.created': ['110113', '110129', 'C', 0],
  'key.rotated': ['110113', '110129', 'U', 0],
  'key.retired': ['110113', '110129', 'U', 0],
  'key.disabled': ['110113', '110129', 'U', 0],
  'key.enabled': ['110113', '110129', 'U', 0],
  'key.destroyed': ['110113', '110129', 'D', 0],
  'key.budget.warning': ['110113', null, 'E', 0],
  'envelope.decrypt.failed': ['110113', null, 'E', 8],
  'backup.verified': ['110100', null, 'E', 0],
  'backup.failed': ['110113', null, 'E', 8],
  'audit.verified': ['110101', null, 'R', 0],
  'audit.finding': ['110113', null, 'E', 8],
}

/** An audit log on a fresh file store; the records it holds, parsed. */
async function fileLog(): Promise<{ log: AuditLog; events: () => Promise<AuditEvent[]> }> {
  const store = await openFileStore({ dir: tempDir(), stream: 'sink-test' })
  const log = await openAuditLog({ store, closeStore: false, checkpointEvery: { ms: 0 } })
  return {
    log,
    events: async () => {
      const out: AuditEvent[] = []
      for await (const r of store.read(0))
        out.push((JSON.parse(utf8Decode(r.bytes)) as { event: AuditEvent }).event)
      return out
    },
  }
}

describe('auditSinkTable', () => {
  it('has exactly one row per SafeguardEvent type', () => {
    expect(Object.keys(auditSinkTable).sort()).toEqual([...safeguardEventTypes].sort())
    expect(Object.keys(samples).sort()).toEqual([...safeguardEventTypes].sort())
  })

  it.each(safeguardEventTypes.map((t) => [t]))('maps %s to its codes', (type) => {
    const e = auditEventOf(sample(type), { source: 'ehr-api' })
    const [wantType, wantSubtype, wantAction, wantOutcome, btg] = expected[type]
    expect(e.type).toBe(wantType)
    expect(e.subtype).toEqual(wantSubtype === null ? undefined : [wantSubtype])
    expect(e.action).toBe(wantAction)
    expect(e.outcome).toBe(wantOutcome)
    expect(e.agents).toEqual([
      { who: 'user/u-1', requestor: true, ...(btg === true ? { purposeOfUse: ['BTG'] } : {}) },
    ])
    expect(e.source).toEqual({ observer: 'ehr-api' })
    expect(e.occurred).toBe('2026-01-02T03:04:05.006Z')
    expect(e.details).toMatchObject({ event: type, emitter: sample(type).source })
    // What the log accepts unchanged: every mapped event is a valid schema-v1 event.
    expect(validateEvent(e)).toEqual(e)
  })
})

describe('auditEventOf', () => {
  it('maps failures by the row: 4 for a refusal, 8 for a failed record access, severity for findings', () => {
    const failed = { ...sample('record.accessed'), outcome: 'failure' as const }
    expect(auditEventOf(failed, { source: 's' }).outcome).toBe(8)
    const warning = { ...sample('audit.finding'), severity: 'warning' as const }
    expect(auditEventOf(warning, { source: 's' }).outcome).toBe(4)
  })

  it('records the resource, the keys and the coded fields as entities and details', () => {
    const a = auditEventOf(sample('access.emergency.used'), { source: 's', site: 'clinic-1' })
    expect(a.source).toEqual({ observer: 's', site: 'clinic-1' })
    expect(a.entities).toEqual([{ what: 'Observation/o-9', type: '2', role: '4' }])
    expect(a.details).toEqual({
      event: 'access.emergency.used',
      emitter: '@safeguards/rbac',
      tenant: 't1',
      grantId: 'g1',
    })
    const d = auditEventOf(sample('envelope.decrypt.failed'), { source: 's' })
    expect(d.entities?.map((x) => x.what)).toEqual(['local:default@v1', 'local:default@v2'])
    expect(d.outcomeCode).toBe('ERR_ENVELOPE_DECRYPTION_FAILED')
    const s = auditEventOf(sample('auth.locked'), { source: 's' })
    expect(s.details).toEqual({ event: 'auth.locked', emitter: '@safeguards/mfa', 'counts.failures': 5 })
    const search = auditEventOf({ ...sample('access.allowed'), action: 'search' }, { source: 's' })
    expect([search.action, search.subtype]).toEqual(['R', ['search-type']])
    const { resourceId: _, ...noId } = sample('access.allowed')
    const verb = auditEventOf({ ...noId, action: 'export' }, { source: 's' })
    expect([verb.action, verb.subtype, verb.entities]).toEqual([
      'E',
      ['export'],
      [{ what: 'Observation', type: '2', role: '4' }],
    ])
  })

  it('names the emitting package as the agent when the event has no actor', () => {
    const { actor: _, ...noActor } = sample('session.expired.idle')
    expect(auditEventOf(noActor, { source: 's' }).agents).toEqual([
      { who: '@safeguards/session', requestor: true },
    ])
  })

  it('pseudonymises the subject with the given key, and only then', () => {
    const ps = createPseudonymizer(new Uint8Array(32).fill(7), { keyId: 'k1' })
    const e = auditEventOf(sample('record.accessed'), { source: 's', pseudonymize: ps })
    expect(e.patient).toBe(ps.pseudonym('MRN-1'))
    expect(e.patient).toMatch(/^ps:k1:/)
    expect(auditEventOf(sample('record.accessed'), { source: 's' }).patient).toBe('MRN-1')
  })

  it('records the address the network hook names on the requestor agent, and none when it names none', () => {
    const seen: SafeguardEvent[] = []
    const failed = auditEventOf(sample('auth.password.failed'), {
      source: 's',
      network: (e) => {
        seen.push(e)
        return { address: '203.0.113.7', type: '2' }
      },
    })
    expect(seen).toEqual([sample('auth.password.failed')])
    expect(failed.agents).toEqual([
      { who: 'user/u-1', requestor: true, network: { address: '203.0.113.7', type: '2' } },
    ])
    expect(validateEvent(failed)).toEqual(failed)
    const bare = auditEventOf(sample('auth.password.failed'), {
      source: 's',
      network: () => ({ address: '::1' }),
    })
    expect(bare.agents[0]?.network).toEqual({ address: '::1' })
    const none = auditEventOf(sample('record.accessed'), { source: 's', network: () => undefined })
    expect(none.agents).toEqual([{ who: 'user/u-1', requestor: true }])
  })

  it('copies no field the table does not name', () => {
    for (const type of safeguardEventTypes) {
      const leaky = {
        ...sample(type),
        token: 'SECRET-TOKEN',
        password: 'hunter2',
        contextKeys: ['SECRET-CTX'],
      }
      const text = JSON.stringify(auditEventOf(leaky as SafeguardEvent, { source: 's' }))
      expect(text).not.toMatch(/SECRET|hunter2/)
    }
  })
})

describe('auditSink', () => {
  it('appends one record per event type, in order, each valid', async () => {
    const { log, events } = await fileLog()
    const sink = auditSink(log, { source: 'ehr-api' })
    for (const type of safeguardEventTypes) await sink(sample(type))
    const stored = await events()
    expect(stored.map((e) => e.details?.event)).toEqual([...safeguardEventTypes])
    stored.forEach((e, i) => {
      expect(e.type).toBe(expected[safeguardEventTypes[i]!][0])
    })
    await log.close()
  })

  it('is critical by default: a failing append fails the emitting operation with ERR_EVENT_SINK', async () => {
    const { log } = await fileLog()
    await log.close()
    const emitter = createEmitter({ events: auditSink(log, { source: 'ehr-api' }) })
    const failed = emitter.emit(sample('record.accessed'))
    expect(failed).toBeInstanceOf(Promise)
    const e = await failed!.then(
      () => null,
      (x: unknown) => x,
    )
    expect(e).toBeInstanceOf(EventSinkError)
    expect(isSafeguardsError(e, 'ERR_EVENT_SINK')).toBe(true)
    expect(isSafeguardsError((e as Error).cause, 'ERR_AUDIT_CLOSED')).toBe(true)
  })

  it('with critical: false is isolated: the failure goes to onSinkError and the operation goes on', async () => {
    const { log } = await fileLog()
    await log.close()
    const seen: unknown[] = []
    const emitter = createEmitter({
      events: auditSink(log, { source: 'ehr-api', critical: false }),
      onSinkError: (err) => seen.push(err),
    })
    expect(emitter.emit(sample('access.denied'))).toBeUndefined()
    await new Promise((r) => setTimeout(r, 10))
    expect(seen).toHaveLength(1)
    expect(isSafeguardsError(seen[0], 'ERR_AUDIT_CLOSED')).toBe(true)
  })

  it("writes the address of the operation in progress, read from the app's per-request context", async () => {
    const { log, events } = await fileLog()
    const request = new AsyncLocalStorage<{ address: string }>()
    const sink = auditSink(log, {
      source: 'ehr-api',
      network: () => {
        const address = request.getStore()?.address
        return address === undefined ? undefined : { address, type: '2' }
      },
    })
    const emitter = createEmitter({ events: sink })
    const signIn = async (): Promise<void> => {
      await Promise.resolve() // an await between the request's start and the event, as in a real handler
      await emitter.emit(sample('auth.password.failed'))
    }
    await Promise.all([
      request.run({ address: '198.51.100.1' }, signIn),
      request.run({ address: '2001:db8::9' }, signIn),
    ])
    await emitter.emit(sample('auth.password.failed'))
    const agents = (await events()).map((e) => e.agents[0]?.network?.address)
    expect(agents.slice(0, 2).sort()).toEqual(['198.51.100.1', '2001:db8::9'])
    expect(agents[2]).toBeUndefined()
    await log.close()
  })

  it('fails the operation when the network hook names an address that is not identifier-shaped', async () => {
    const { log, events } = await fileLog()
    const emitter = createEmitter({
      events: auditSink(log, { source: 'ehr-api', network: () => ({ address: 'not an address' }) }),
    })
    const e = await emitter.emit(sample('auth.password.failed'))!.then(
      () => null,
      (x: unknown) => x,
    )
    expect(isSafeguardsError(e, 'ERR_EVENT_SINK')).toBe(true)
    expect(await events()).toEqual([])
    await log.close()
  })

  it('refuses a missing log or source', () => {
    expect(() =>
      auditSink({ append: async () => ({ seq: 0, hash: '' }) }, { source: 's', network: 'x' as never }),
    ).toThrow(TypeError)
    expect(() => auditSink({} as AuditLog, { source: 's' })).toThrow(TypeError)
    expect(() => auditSink({ append: async () => ({ seq: 0, hash: '' }) }, {} as { source: string })).toThrow(
      TypeError,
    )
  })
})

describe('verifyLog events', () => {
  it('emits audit.finding per finding, then audit.verified with the counts and outcome', async () => {
    const store = await openFileStore({ dir: tempDir(), stream: 'ver' })
    const got: SafeguardEvent[] = []
    const clean = await verifyLog(store, {
      workers: 0,
      events: (e) => void got.push(e),
      clock: { now: () => at },
    })
    // An empty log: one warning (EMPTY_LOG), still ok.
    expect(clean.findings.map((f) => f.code)).toEqual(['EMPTY_LOG'])
    expect(got).toEqual([
      {
        type: 'audit.finding',
        at,
        source: '@safeguards/audit-log',
        outcome: 'failure',
        stream: 'ver',
        severity: 'warning',
        code: 'EMPTY_LOG',
        counts: { seq: 0 },
      },
      {
        type: 'audit.verified',
        at,
        source: '@safeguards/audit-log',
        outcome: 'success',
        stream: 'ver',
        counts: { records: 0, checkpoints: 0 },
      },
    ])
    await store.close()
  })

  it('reports a failed verification as outcome failure, and fails when a critical sink fails', async () => {
    const dir = tempDir()
    const log = await openAuditLog({
      store: await openFileStore({ dir, stream: 'ver2' }),
      checkpointEvery: { ms: 0 },
    })
    for (let i = 0; i < 3; i++) await log.append(auditEventOf(sample('record.accessed'), { source: 's' }))
    await log.close()
    // Drop the middle record: a sequence gap and a broken link.
    const segment = join(dir, 'segments', readdirSync(join(dir, 'segments')).sort()[0]!)
    const lines = readFileSync(segment, 'utf8').split('\n')
    writeFileSync(segment, lines.filter((_, i) => i !== 1).join('\n'))
    const store = await openFileStore({ dir, stream: 'ver2', readOnly: true })
    const got: SafeguardEvent[] = []
    const report = await verifyLog(store, { workers: 0, events: (e) => void got.push(e) })
    expect(report.ok).toBe(false)
    expect(got.filter((e) => e.type === 'audit.finding')).toHaveLength(report.findings.length)
    expect(got.find((e) => e.type === 'audit.finding' && e.code === 'SEQ_GAP')).toMatchObject({
      severity: 'error',
      counts: { seq: 1 },
    })
    expect(got.at(-1)).toMatchObject({ type: 'audit.verified', outcome: 'failure', counts: { records: 2 } })
    const sinkFails = verifyLog(store, {
      workers: 0,
      events: criticalSink(() => {
        throw new Error('down')
      }),
    })
    await expect(sinkFails).rejects.toBeInstanceOf(EventSinkError)
    await store.close()
  })
})
