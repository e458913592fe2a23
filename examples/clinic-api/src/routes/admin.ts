/**
 * Administration: audit log verification, key rotation, backups. rbac records a refused request;
 * what an allowed one does is recorded by the package doing it (`audit.verified` and
 * `audit.finding` by the verifier, `key.*` by the keyring, `backup.*` by the backup package),
 * each given the critical audit sink as its `events` option.
 */
import { cpSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import {
  alertFromReport,
  type CreateBagOptions,
  createBag,
  type VerifyOptions,
  verifyBag,
} from '@safeguards/backup'
import { bytesToHex, randomBytes } from '@safeguards/core'
import type { ClinicAudit } from '../audit.js'
import type { ClinicApp, ClinicServices } from '../context.js'
import { MIN } from '../staff.js'
import { allowed } from './emergency.js'

/** What the admin routes need besides the services. */
export interface AdminDeps {
  readonly audit: ClinicAudit
  readonly dataDir: string
  readonly paths: { readonly records: string; readonly backups: string }
  readonly backupSigning: NonNullable<CreateBagOptions['signingKey']>
  readonly backupPublic: NonNullable<VerifyOptions['publicKeys']>
  /** Rewraps the blind-index root key under the new primary KEK (before the old one is retired). */
  readonly rewrapIndexKey?: () => Promise<string>
}

/** Mounts `GET /api/audit/verify`, `POST /api/admin/keys/rotate` and the backup routes. */
export function mountAdminRoutes(app: ClinicApp, s: ClinicServices, a: AdminDeps): void {
  app.get('/api/audit/verify', async (c) => {
    const d = allowed(s, c.get('user'), 'verify', 'AuditEvent')
    if (!d.allowed) return c.json({ error: 'forbidden', reason: d.reason }, 403)
    await s.log.checkpoint()
    const r = await a.audit.verifyLive(s.audit)
    return c.json({
      ok: r.ok,
      records: r.records,
      checkpoints: r.checkpoints,
      anchoredThrough: r.anchoredThrough,
      findings: r.findings.map((f) => ({ seq: f.seq, code: f.code, severity: f.severity })),
    })
  })

  // Key rotation: add and promote a new KEK version, then rewrap the patients' subject keys (no
  // field changes; `rewrapped` counts fields still under the keyring itself) and the blind-index
  // root key.
  app.post('/api/admin/keys/rotate', async (c) => {
    const d = allowed(s, c.get('user'), 'rotate', 'Key')
    if (!d.allowed) return c.json({ error: 'forbidden', reason: d.reason }, 403)
    const next = await s.keyring.addVersion()
    await s.keyring.promote(next.version)
    const { fields: rewrapped, subjectKeys } = await s.records.rewrapAll()
    await a.rewrapIndexKey?.()
    const retired = next.version - 1
    await s.keyring.retire(retired)
    return c.json({ primary: next.keyRef, rewrapped, subjectKeys, retiredVersion: retired })
  })

  const verifyBackup = async (id: string) => {
    const v = await verifyBag(join(a.paths.backups, id), {
      publicKeys: a.backupPublic,
      requireSignature: true,
      maxAgeMs: 36 * 60 * MIN,
      clock: s.clock,
      events: s.audit,
    })
    const alert = v.report.exitCode === 0 ? null : alertFromReport(v.report)
    return { status: v.report.status, exitCode: v.report.exitCode, alert: alert?.codes ?? null }
  }

  // Backup: bag the encrypted records (never plaintext), sign, verify immediately.
  app.post('/api/admin/backups', async (c) => {
    const d = allowed(s, c.get('user'), 'backup', 'Backup')
    if (!d.allowed) return c.json({ error: 'forbidden', reason: d.reason }, 403)
    const id = `b-${bytesToHex(randomBytes(4))}`
    const staging = join(a.dataDir, `staging-${id}`)
    cpSync(a.paths.records, staging, { recursive: true })
    const bag = await createBag(staging, join(a.paths.backups, id), {
      signingKey: a.backupSigning,
      backupSetId: 'clinic-nightly',
      clock: s.clock,
      move: true,
      events: s.audit,
    })
    rmSync(staging, { recursive: true, force: true })
    return c.json({ id, files: bag.files, ...(await verifyBackup(id)) })
  })

  app.post('/api/admin/backups/:id/verify', async (c) => {
    const d = allowed(s, c.get('user'), 'backup', 'Backup')
    if (!d.allowed) return c.json({ error: 'forbidden', reason: d.reason }, 403)
    const id = c.req.param('id')
    if (!/^[a-z0-9-]{1,64}$/.test(id) || !readdirSync(a.paths.backups).includes(id))
      return c.json({ error: 'not_found' }, 404)
    return c.json({ id, ...(await verifyBackup(id)) })
  })
}
