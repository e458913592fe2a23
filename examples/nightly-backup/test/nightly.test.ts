/**
 * The nightly example against the PostgreSQL on this machine: a schema of our own with a small
 * table, dumped, bagged, signed, verified with `pg_restore --list`; then a second night chained to
 * the first; then damage, which must reach the alert webhook (a local HTTP server) with codes only.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, truncateSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  generateSigningKeyPair,
  importSigningKey,
  importVerificationKeys,
  verifyWebhookSignature,
} from '@safeguards/backup'
import { bytesToHex, manualClock, randomBytes } from '@safeguards/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nightly, verifyNightly } from '../src/nightly.js'

const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const schema = `sg_backup_${bytesToHex(randomBytes(4))}`
const psql = (sql: string): string =>
  execFileSync('psql', [databaseUrl, '-v', 'ON_ERROR_STOP=1', '-Atqc', sql], { encoding: 'utf8' })

let available = true
try {
  psql('select 1')
} catch {
  available = false
}
if (!available && process.env.CI === 'true')
  throw new Error('CI=true but PostgreSQL is not reachable at DATABASE_URL')
if (!available) console.warn(`skipping nightly-backup tests: PostgreSQL not reachable at ${databaseUrl}`)

const root = mkdtempSync(join(tmpdir(), 'sg-nightly-'))
const bodies: { headers: Record<string, unknown>; body: string }[] = []
const server = createServer((req, res) => {
  let body = ''
  req.on('data', (c) => {
    body += c
  })
  req.on('end', () => {
    bodies.push({ headers: req.headers, body })
    res.end()
  })
})
const secret = randomBytes(32)

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  if (available)
    psql(
      `create schema ${schema}; create table ${schema}.patients (id int primary key, name text); insert into ${schema}.patients values (1, 'Jane Doe'), (2, 'John Roe');`,
    )
})
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()))
  if (available) psql(`drop schema if exists ${schema} cascade`)
  rmSync(root, { recursive: true, force: true })
})

describe.skipIf(!available)('nightly backup example', () => {
  it('dumps, bags, signs, verifies with pg_restore --list, chains, and alerts on damage', async () => {
    const { privateJwk, publicJwk } = await generateSigningKeyPair('EdDSA', 'nightly-test')
    const night1 = Date.UTC(2026, 10, 22, 2, 0, 0)
    const clock = manualClock(night1)
    const options = {
      databaseUrl,
      schema,
      bagsDir: join(root, 'bags'),
      statePath: join(root, 'state.json'),
      signingKey: await importSigningKey(privateJwk),
      publicKeys: await importVerificationKeys(publicJwk),
      webhook: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/backup`, secret },
      prometheus: join(root, 'backup.prom'),
      clock,
      log: () => undefined,
    }
    const first = await nightly(options)
    expect(first.report.findings).toEqual([])
    expect(first.report.restoreTests).toMatchObject([{ name: 'pg_restore --list', ok: true }])
    // The dump really holds our table.
    const listing = execFileSync('pg_restore', ['--list', join(first.bagDir, 'data/db.dump')], {
      encoding: 'utf8',
    })
    expect(listing).toContain(`TABLE DATA ${schema} patients`)
    expect(bodies).toHaveLength(0)

    clock.advance(24 * 3600_000)
    const second = await nightly(options)
    expect(second.report.exitCode).toBe(0)
    expect(second.report.attestation?.seq).toBe(2)
    expect(JSON.parse(readFileSync(options.statePath, 'utf8')).chains['postgres-nightly'].seq).toBe(2)
    expect(readFileSync(options.prometheus, 'utf8')).toContain(
      'backup_verify_success{job="nightly-backup"} 1',
    )

    // Damage the newest dump: verification fails, the restore test never runs, staff are alerted.
    truncateSync(join(second.bagDir, 'data/db.dump'), 100)
    const damaged = await verifyNightly(second.bagDir, options)
    expect(damaged.exitCode).toBe(1)
    expect(bodies).toHaveLength(1)
    const alert = bodies[0] as { headers: Record<string, unknown>; body: string }
    expect(
      verifyWebhookSignature(
        secret,
        alert.headers['x-safeguards-timestamp'] as string,
        alert.headers['x-safeguards-signature'] as string,
        alert.body,
        clock.now(),
      ),
    ).toBe(true)
    expect(JSON.parse(alert.body)).toMatchObject({
      status: 'failed',
      exitCode: 1,
      codes: { E_DIGEST_MISMATCH: 2 },
    })
    expect(alert.body).not.toContain('db.dump')
    expect(readFileSync(options.prometheus, 'utf8')).toContain(
      'backup_verify_success{job="nightly-backup"} 0',
    )

    // Two days without a new backup: stale (exit 4), on the intact first bag... which is also older
    // than the chain head, so the verifier reports the rollback first (exit 3).
    clock.advance(2 * 24 * 3600_000)
    const old = await verifyNightly(first.bagDir, options)
    expect(old.exitCode).toBe(3)
  })
})
