import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  alertFromReport,
  createBag,
  emptyVerifyState,
  generateSigningKeyPair,
  importSigningKey,
  importVerificationKeys,
  verifyBag,
} from '@safeguards/backup'
import { manualClock } from '@safeguards/core'
import type { TourStep } from '../step.js'

export const backupStep: TourStep = {
  package: '@safeguards/backup',
  title: 'signed BagIt backups, fail-closed verification, freshness and alerts',
  hipaa: [
    '164.308(a)(7)(ii)(A) data backup plan',
    '164.308(a)(7)(ii)(D) testing and revision',
    '164.310(d)(2)(iv) data backup and storage',
    '164.312(c)(1) integrity',
  ],
  async run(say) {
    const root = mkdtempSync(join(tmpdir(), 'sg-tour-backup-'))
    try {
      mkdirSync(join(root, 'export'))
      writeFileSync(join(root, 'export/patients.csv'), 'mrn,name\n1001,Jane Doe\n')
      writeFileSync(join(root, 'export/visits.csv'), 'mrn,date\n1001,2026-11-21\n')
      const { privateJwk, publicJwk } = await generateSigningKeyPair('EdDSA', 'tour-backup-key')
      const signingKey = await importSigningKey(privateJwk)
      const publicKeys = await importVerificationKeys(publicJwk)
      const night = Date.UTC(2026, 10, 22, 2, 0, 0)
      const bag = await createBag(join(root, 'export'), join(root, 'bag'), {
        signingKey,
        backupSetId: 'clinic-nightly',
        clock: manualClock(night),
      })
      say(`bagged ${bag.files} files (BagIt 1.0, SHA-512 + SHA-256), attestation seq ${bag.seq}, signed`)
      const clean = await verifyBag(bag.bagDir, {
        publicKeys,
        requireSignature: true,
        maxAgeMs: 36 * 3600_000,
        state: emptyVerifyState(),
        clock: manualClock(night + 6 * 3600_000),
      })
      say(`verify the next morning: ${clean.report.status}, exit ${clean.report.exitCode}`)
      const stale = await verifyBag(bag.bagDir, {
        publicKeys,
        maxAgeMs: 36 * 3600_000,
        clock: manualClock(night + 3 * 86_400_000),
      })
      say(
        `three days later with a 36 h RPO: exit ${stale.report.exitCode} (${stale.report.findings.at(-1)?.code})`,
      )
      unlinkSync(join(bag.bagDir, 'data/visits.csv'))
      const damaged = await verifyBag(bag.bagDir, { publicKeys, clock: manualClock(night + 6 * 3600_000) })
      say(
        `after deleting a file: exit ${damaged.report.exitCode}, findings ${damaged.report.findings.map((f) => f.code).join(', ')}`,
      )
      say(`the alert carries codes and counts only: ${JSON.stringify(alertFromReport(damaged.report).codes)}`)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  },
}
