/**
 * Lab results sent to patients, sealed end to end. A patient registers an X25519 public key at the
 * front desk (PEM or JWK; the desk reads the recipient id back to the patient, who compares it with
 * their app). A clinician on the care team then sends a result: the clinic seals it with
 * `@safeguards/envelope`'s recipients provider (HPKE, RFC 9180) to the patient's key and to the
 * clinic's archive key, in one message, bound to the patient and the message id. The sealed
 * message is served at `/messages/:id` without a session: it can travel any channel and sit in any
 * mailbox, because only the patient's (or the archive's) private key opens it. The clinic server
 * keeps no key that opens it: the archive's private key belongs offline (here it is written once,
 * mode 0600, beside the messages, for the demo and the tests).
 *
 * HIPAA: 164.312(e)(2)(ii) encryption of ePHI sent to the patient; 164.312(b) every send is
 * recorded (`record.accessed`, action `disclose`, with its real outcome) before the answer.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { base64ToBytes, bytesToBase64, bytesToHex, randomBytes, Secret, utf8Encode } from '@safeguards/core'
import { writeFileAtomic } from '@safeguards/core/node'
import {
  createEnvelope,
  createRecipientsProvider,
  RecipientIdentity,
  RecipientPublicKey,
} from '@safeguards/envelope'
import { CLINIC_SOURCE, type ClinicApp, type ClinicServices } from './context.js'
import { subjectOf } from './routes/charts.js'
import { TENANT } from './staff.js'
import { writeOnce } from './write-once.js'

/** The encryption context of a sent result: the patient opens it with the same pairs. */
export const labContext = (patient: string, message: string) => ({
  purpose: 'lab-result',
  patient,
  message,
})

/** The clinic's sealed lab-result mailbox. */
export interface LabResults {
  /** Registers (or replaces) a patient's public key; returns its recipient id. */
  registerKey(patient: string, publicKey: string | JsonWebKey): Promise<string>
  /** Seals `result` to the patient and the archive; returns the message id and the recipient ids. */
  send(patient: string, result: string): Promise<{ message: string; recipients: readonly string[] }>
  /** Deletes a patient's registered key (after a shred: nothing more is sealed to them). */
  forget(patient: string): Promise<void>
  /** The sealed message `id`, or null. */
  load(id: string): Uint8Array | null
  /** The archive's public key (its private key is kept offline). */
  readonly archive: RecipientPublicKey
}

/** Opens the mailbox in `dir` (patient keys, sealed messages, the archive key), creating it once. */
export async function openLabResults(dir: string): Promise<LabResults> {
  for (const d of [dir, join(dir, 'keys'), join(dir, 'messages')])
    mkdirSync(d, { recursive: true, mode: 0o700 })
  const archiveKeyFile = join(dir, 'archive.key.pem')
  if (!existsSync(archiveKeyFile)) {
    const identity = await RecipientIdentity.generate()
    writeOnce(archiveKeyFile, utf8Encode(identity.exportPem().reveal()))
    identity.destroy()
  }
  const archive = (await RecipientIdentity.import(Secret.of(readFileSync(archiveKeyFile, 'utf8')))).publicKey
  const keyFile = (patient: string) => join(dir, 'keys', `${patient}.pub.pem`)
  const messageFile = (id: string) => join(dir, 'messages', `${id}.hge`)
  return {
    archive,
    async registerKey(patient, publicKey) {
      const key = await RecipientPublicKey.import(publicKey)
      await writeFileAtomic(keyFile(patient), utf8Encode(key.toPem()))
      return key.id
    },
    async send(patient, result) {
      if (!existsSync(keyFile(patient))) throw new Error('no_key')
      const key = await RecipientPublicKey.import(readFileSync(keyFile(patient), 'utf8'))
      const provider = createRecipientsProvider({ recipients: [key, archive] })
      const message = bytesToHex(randomBytes(16))
      const sealed = await createEnvelope({ provider }).encrypt(
        utf8Encode(result),
        labContext(patient, message),
      )
      writeOnce(messageFile(message), sealed)
      return { message, recipients: provider.recipients }
    },
    async forget(patient) {
      await rm(keyFile(patient), { force: true })
    },
    load(id) {
      if (!/^[0-9a-f]{32}$/.test(id) || !existsSync(messageFile(id))) return null
      return new Uint8Array(readFileSync(messageFile(id)))
    },
  }
}

/**
 * `PUT /api/patients/:id/recipient-key` (staff who may read demographics), `POST
 * /api/patients/:id/lab-results` (the care team: whoever may read the clinical chart), and
 * `GET /messages/:id` (no session: the sealed bytes, base64). A shredded patient answers 410
 * `ERR_SUBJECT_SHREDDED` to both (the refused send is recorded with that code).
 */
export function mountLabResultRoutes(app: ClinicApp, s: ClinicServices, lab: LabResults): void {
  const allowed = (c: { get(k: 'user'): Parameters<typeof subjectOf>[0] }, patient: string, type: string) =>
    s.pdp.decide({
      subject: subjectOf(c.get('user')),
      action: 'read',
      resource: { type, tenant: TENANT, patient },
    })
  /** The patient's state: unknown (404), shredded (410: nothing more is sealed to them), or live. */
  const state = (patient: string): 'unknown' | 'shredded' | 'live' => {
    const record = s.records.load(patient)
    return record === null ? 'unknown' : record.shredded ? 'shredded' : 'live'
  }
  const GONE = { error: 'gone', code: 'ERR_SUBJECT_SHREDDED' } as const

  app.put('/api/patients/:id/recipient-key', async (c) => {
    const patient = c.req.param('id')
    const decision = allowed(c, patient, 'Demographics')
    if (!decision.allowed) return c.json({ error: 'forbidden', reason: decision.reason }, 403)
    const known = state(patient)
    if (known === 'unknown') return c.json({ error: 'not_found' }, 404)
    if (known === 'shredded') return c.json(GONE, 410)
    const body = (await c.req.json().catch(() => null)) as { publicKey?: unknown } | null
    const key = body?.publicKey
    if (typeof key !== 'string' && (typeof key !== 'object' || key === null))
      return c.json({ error: 'bad_request' }, 400)
    try {
      return c.json({ patient, recipientId: await lab.registerKey(patient, key as string | JsonWebKey) })
    } catch {
      return c.json({ error: 'bad_key' }, 400)
    }
  })

  app.post('/api/patients/:id/lab-results', async (c) => {
    const user = c.get('user')
    const patient = c.req.param('id')
    const decision = allowed(c, patient, 'Clinical')
    if (!decision.allowed) return c.json({ error: 'forbidden', reason: decision.reason }, 403)
    const body = (await c.req.json().catch(() => null)) as { result?: unknown } | null
    if (typeof body?.result !== 'string' || body.result.length === 0 || body.result.length > 65_536)
      return c.json({ error: 'bad_request' }, 400)
    let sent: Awaited<ReturnType<LabResults['send']>> | undefined
    let failure: string | undefined
    const known = state(patient)
    if (known === 'unknown') return c.json({ error: 'not_found' }, 404)
    if (known === 'shredded') failure = GONE.code
    else
      try {
        sent = await lab.send(patient, body.result)
      } catch (e) {
        failure = e instanceof Error && e.message === 'no_key' ? 'no_key' : 'seal_failed'
      }
    // The disclosure is recorded with its real outcome before the answer (fails closed with 503).
    await s.events.emit({
      type: 'record.accessed',
      at: s.clock.now(),
      source: CLINIC_SOURCE,
      outcome: sent ? 'success' : 'failure',
      actor: user.id,
      subject: patient,
      code: failure ?? decision.reason,
      action: 'disclose',
      resourceType: 'DiagnosticReport',
      ...(sent ? { resourceId: sent.message } : {}),
      tenant: TENANT,
    })
    if (failure === GONE.code) return c.json(GONE, 410)
    if (!sent) return c.json({ error: failure }, failure === 'no_key' ? 409 : 500)
    return c.json({
      patient,
      message: sent.message,
      recipients: sent.recipients,
      context: labContext(patient, sent.message),
    })
  })

  app.get('/messages/:id', (c) => {
    const sealed = lab.load(c.req.param('id'))
    if (sealed === null) return c.json({ error: 'not_found' }, 404)
    return c.json({ message: c.req.param('id'), sealed: bytesToBase64(sealed) })
  })
}

/** Opens a sealed lab result on the patient's side, with their identity (what a patient app does). */
export async function openLabResult(
  identity: RecipientIdentity,
  patient: string,
  message: string,
  sealedBase64: string,
): Promise<string> {
  const opener = createEnvelope({ provider: createRecipientsProvider({ identities: [identity] }) })
  const plain = await opener.decrypt(base64ToBytes(sealedBase64), labContext(patient, message))
  return new TextDecoder().decode(plain)
}
