/**
 * `pnpm --filter @safeguards-examples/nightly-backup start` — one nightly run against
 * DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test). Keys are read from
 * BACKUP_SIGNING_JWK / BACKUP_PUBLIC_JWK (files; a throwaway pair is generated when unset);
 * bags go to BACKUP_DIR (default ./backups), state to BACKUP_STATE (default ./backup-state.json).
 * Exit code: the verification's (0 ok, 1 integrity, 3 authenticity, 4 stale, 5 restore failed).
 */
import { readFileSync } from 'node:fs'
import { generateSigningKeyPair, importSigningKey, importVerificationKeys } from '@safeguards/backup'
import { utf8Encode } from '@safeguards/core'
import { nightly } from './nightly.js'

const env = process.env
const pair =
  env.BACKUP_SIGNING_JWK && env.BACKUP_PUBLIC_JWK
    ? {
        privateJwk: JSON.parse(readFileSync(env.BACKUP_SIGNING_JWK, 'utf8')),
        publicJwk: JSON.parse(readFileSync(env.BACKUP_PUBLIC_JWK, 'utf8')),
      }
    : await generateSigningKeyPair('EdDSA', 'example-nightly')
const { bagDir, report } = await nightly({
  databaseUrl: env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  ...(env.BACKUP_SCHEMA ? { schema: env.BACKUP_SCHEMA } : {}),
  bagsDir: env.BACKUP_DIR ?? 'backups',
  statePath: env.BACKUP_STATE ?? 'backup-state.json',
  signingKey: await importSigningKey(pair.privateJwk),
  publicKeys: await importVerificationKeys(pair.publicJwk),
  ...(env.BACKUP_WEBHOOK && env.BACKUP_WEBHOOK_SECRET
    ? { webhook: { url: env.BACKUP_WEBHOOK, secret: utf8Encode(env.BACKUP_WEBHOOK_SECRET) } }
    : {}),
  ...(env.BACKUP_PROMETHEUS ? { prometheus: env.BACKUP_PROMETHEUS } : {}),
  log: (l) => process.stderr.write(l),
})
process.stdout.write(`${bagDir}: ${report.status} (exit ${report.exitCode})\n`)
process.exitCode = report.exitCode
