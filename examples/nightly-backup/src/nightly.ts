/**
 * One nightly run: dump the database with `pg_dump`, bag and sign the dump (chained to the
 * previous night's bag), verify the new bag in full with a `pg_restore --list` restore test and a
 * freshness limit, keep the verifier state, and alert on failure (webhook signed with HMAC,
 * Prometheus textfile, stderr). Returns the verify exit code.
 */
import { execFile } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import {
  type AlertSink,
  alertFromReport,
  commandRestoreTest,
  createBag,
  loadVerifyState,
  prometheusTextfileSink,
  type SigningKey,
  saveVerifyState,
  sendAlerts,
  stderrSink,
  type VerificationKey,
  type VerifyReport,
  verifyBag,
  webhookSink,
} from '@safeguards/backup'
import { type Clock, systemClock } from '@safeguards/core'

const run = promisify(execFile)

export interface NightlyOptions {
  /** postgres://… of the database to dump. */
  databaseUrl: string
  /** Dump only this schema (default: the whole database). */
  schema?: string
  /** Where bags go: one folder per night, named by the date and time. */
  bagsDir: string
  /** Verifier state (chain head and coverage), kept outside bagsDir. */
  statePath: string
  signingKey: SigningKey
  publicKeys: readonly VerificationKey[]
  /** RPO: the newest backup may not be older than this (default 26 h). */
  maxAgeMs?: number
  /** Alert webhook and its HMAC secret. */
  webhook?: { url: string; secret: Uint8Array }
  /** Prometheus textfile path. */
  prometheus?: string
  clock?: Clock
  log?: (line: string) => void
}

/** The newest bag in bagsDir (names sort by time), or undefined. */
export function latestBag(bagsDir: string): string | undefined {
  let names: string[] = []
  try {
    names = readdirSync(bagsDir).filter((n) => /^\d{8}T\d{6}Z$/.test(n))
  } catch {
    return undefined
  }
  const last = names.sort().at(-1)
  return last === undefined ? undefined : join(bagsDir, last)
}

/** Dumps the database (custom format, restorable with pg_restore) into `dir/db.dump`. */
export async function dumpDatabase(databaseUrl: string, dir: string, schema?: string): Promise<void> {
  mkdirSync(dir, { recursive: true })
  const args = ['--format=custom', '--no-owner', `--file=${join(dir, 'db.dump')}`]
  if (schema !== undefined) args.push(`--schema=${schema}`)
  await run('pg_dump', [...args, databaseUrl])
}

/** Verifies one bag with the restore test and sends alerts; returns the report. */
export async function verifyNightly(bagDir: string, options: NightlyOptions): Promise<VerifyReport> {
  const clock = options.clock ?? systemClock
  const state = await loadVerifyState(options.statePath)
  const { report, state: next } = await verifyBag(bagDir, {
    publicKeys: options.publicKeys,
    requireSignature: true,
    maxAgeMs: options.maxAgeMs ?? 26 * 3600_000,
    state,
    clock,
    restoreTests: [commandRestoreTest('pg_restore --list', ['pg_restore', '--list', '{data}/db.dump'])],
  })
  await saveVerifyState(options.statePath, next)
  const sinks: AlertSink[] = [stderrSink((l) => (options.log ?? ((x) => process.stderr.write(x)))(l))]
  if (options.webhook) sinks.push(webhookSink(options.webhook.url, { secret: options.webhook.secret, clock }))
  if (options.prometheus) sinks.push(prometheusTextfileSink(options.prometheus, { job: 'nightly-backup' }))
  const outcome = await sendAlerts(alertFromReport(report), sinks)
  for (const f of outcome.failed) options.log?.(`alert sink ${f.sink} failed (${f.code})\n`)
  return report
}

/** The whole nightly job. */
export async function nightly(options: NightlyOptions): Promise<{ bagDir: string; report: VerifyReport }> {
  const clock = options.clock ?? systemClock
  const stamp = new Date(clock.now())
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
  const staging = join(options.bagsDir, `.staging-${stamp}`)
  const bagDir = join(options.bagsDir, stamp)
  const previous = latestBag(options.bagsDir)
  try {
    await dumpDatabase(options.databaseUrl, staging, options.schema)
    await createBag(staging, bagDir, {
      signingKey: options.signingKey,
      backupSetId: 'postgres-nightly',
      move: true,
      clock,
      ...(previous === undefined
        ? {}
        : { previousAttestation: readFileSync(join(previous, 'attestation.jws'), 'utf8') }),
    })
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
  return { bagDir, report: await verifyNightly(bagDir, options) }
}
