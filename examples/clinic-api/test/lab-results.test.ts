/**
 * A lab result sent to a patient, sealed to the patient's X25519 key and the clinic archive
 * (HPKE): the front desk registers the patient's public key, a nurse on the care team sends the
 * result, the patient fetches the sealed message without a session and opens it with their
 * private key; the archive opens it too; nobody else does; the send is in the audit log.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { manualClock, Secret } from '@safeguards/core'
import { RecipientIdentity } from '@safeguards/envelope'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningClinic, startClinic } from '../src/clinic.js'
import { client, signIn } from '../src/demo.js'
import { openLabResult } from '../src/lab-results.js'

const clock = manualClock(Date.UTC(2026, 11, 6, 9, 0, 0))
let clinic: RunningClinic
let call: ReturnType<typeof client>

beforeAll(async () => {
  clinic = await startClinic({ clock, demo: { advance: (ms) => clock.advance(ms) } })
  call = client(clinic.url)
})
afterAll(async () => {
  await clinic?.stop()
})

const RESULT = 'HbA1c 6.1 % (collected 2026-12-05; reference < 5.7 %). Dr. Patel will call you.'

describe('lab results sealed to the patient', () => {
  it('registers the key, sends, and only the patient and the archive open it', async () => {
    const patient = await RecipientIdentity.generate() // on the patient's phone
    const early = await signIn(clinic, 'nora.nurse')
    const noKey = await call('POST', '/api/patients/p-1/lab-results', early, { result: RESULT })
    expect(noKey.status).toBe(409) // no key registered yet: nothing is sent
    const desk = await signIn(clinic, 'frank.front')
    const reg = await call('PUT', '/api/patients/p-1/recipient-key', desk, {
      publicKey: patient.publicKey.toPem(),
    })
    expect(reg.status).toBe(200)
    expect(reg.body.recipientId).toBe(patient.id) // read back to the patient, who compares

    const nurse = await signIn(clinic, 'nora.nurse')
    const sent = await call('POST', '/api/patients/p-1/lab-results', nurse, { result: RESULT })
    expect(sent.status).toBe(200)
    const message = sent.body.message as string
    const recipients = sent.body.recipients as string[]
    expect(recipients[0]).toBe(patient.id)
    expect(recipients).toHaveLength(2)

    // the patient app fetches it over any channel, no session, and opens it
    const fetched = await call('GET', `/messages/${message}`)
    expect(fetched.status).toBe(200)
    const sealed = fetched.body.sealed as string
    expect(Buffer.from(sealed, 'base64').toString('latin1')).not.toContain('HbA1c')
    expect(await openLabResult(patient, 'p-1', message, sealed)).toBe(RESULT)

    // the archive key (kept offline in a real deployment) opens it too
    const archivePem = readFileSync(join(clinic.dataDir, 'lab-results', 'archive.key.pem'), 'utf8')
    const archive = await RecipientIdentity.import(Secret.of(archivePem))
    expect(recipients[1]).toBe(archive.id)
    expect(await openLabResult(archive, 'p-1', message, sealed)).toBe(RESULT)

    // anyone else: not a recipient; moved to another patient's context: decryption failed
    const stranger = await RecipientIdentity.generate()
    await expect(openLabResult(stranger, 'p-1', message, sealed)).rejects.toMatchObject({
      code: 'ERR_ENVELOPE_KEY_UNAVAILABLE',
    })
    await expect(openLabResult(patient, 'p-2', message, sealed)).rejects.toMatchObject({
      code: 'ERR_ENVELOPE_DECRYPTION_FAILED',
    })

    // nothing on disk holds the result in plaintext
    const dir = join(clinic.dataDir, 'lab-results', 'messages')
    for (const f of readdirSync(dir)) expect(readFileSync(join(dir, f), 'latin1')).not.toContain('HbA1c')
  })

  it('refuses senders off the care team and bad keys; records the send', async () => {
    const billing = await signIn(clinic, 'bill.billing')
    expect((await call('POST', '/api/patients/p-1/lab-results', billing, { result: RESULT })).status).toBe(
      403,
    )
    const doc = await signIn(clinic, 'priya.physician')
    expect((await call('POST', '/api/patients/p-2/lab-results', doc, { result: RESULT })).status).toBe(403) // not on the care team
    const desk = await signIn(clinic, 'frank.front')
    expect((await call('PUT', '/api/patients/p-1/recipient-key', desk, { publicKey: 'nope' })).status).toBe(
      400,
    )
    expect((await call('PUT', '/api/patients/p-999/recipient-key', desk, { publicKey: 'x' })).status).toBe(
      404,
    )
    expect((await call('GET', '/messages/not-an-id')).status).toBe(404)
    expect((await call('POST', '/api/patients/p-1/lab-results')).status).toBe(401)

    const auditor = await signIn(clinic, 'ada.auditor')
    const v = await call('GET', '/api/audit/verify', auditor)
    expect(v.body.ok).toBe(true)
    const lines = readdirSync(clinic.paths.audit, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile() && d.name.endsWith('.jsonl'))
      .flatMap((d) => readFileSync(join(d.parentPath, d.name), 'utf8').split('\n').filter(Boolean))
    const disclosures = lines.filter((l) => l.includes('"disclose"'))
    expect(disclosures.length).toBeGreaterThanOrEqual(1)
    expect(disclosures.join('\n')).not.toContain('HbA1c')
  })

  it('a shredded patient gets no more results: the send and the key registration answer 410, the key file goes', async () => {
    const keyFile = join(clinic.dataDir, 'lab-results', 'keys', 'p-1.pub.pem')
    const messages = join(clinic.dataDir, 'lab-results', 'messages')
    expect(existsSync(keyFile)).toBe(true) // registered by the first test
    const sentBefore = readdirSync(messages).length
    const officer = await signIn(clinic, 'pia.privacy')
    const ask = await call('POST', '/api/patients/p-1/shred', officer)
    const done = await call('POST', '/api/patients/p-1/shred/confirm', officer, { confirm: ask.body.confirm })
    expect(done.status).toBe(200)
    // The patient asked to be erased: nothing more is sealed to them, and their key is not kept.
    expect(existsSync(keyFile)).toBe(false)
    const nurse = await signIn(clinic, 'nora.nurse')
    const send = await call('POST', '/api/patients/p-1/lab-results', nurse, { result: RESULT })
    expect(send.status).toBe(410)
    expect(send.body).toEqual({ error: 'gone', code: 'ERR_SUBJECT_SHREDDED' })
    expect(readdirSync(messages)).toHaveLength(sentBefore)
    // The refused send is recorded, with its code.
    const refused = readdirSync(clinic.paths.audit, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile() && d.name.endsWith('.jsonl'))
      .flatMap((d) => readFileSync(join(d.parentPath, d.name), 'utf8').split('\n').filter(Boolean))
      .filter((l) => l.includes('"disclose"') && l.includes('"outcomeCode":"ERR_SUBJECT_SHREDDED"'))
    expect(refused).toHaveLength(1)
    const desk = await signIn(clinic, 'frank.front')
    const patient = await RecipientIdentity.generate()
    const reg = await call('PUT', '/api/patients/p-1/recipient-key', desk, {
      publicKey: patient.publicKey.toPem(),
    })
    expect(reg.status).toBe(410)
    expect(existsSync(keyFile)).toBe(false)
  })
})
