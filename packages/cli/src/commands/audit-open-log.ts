/**
 * Opens the store behind a `--log` value: a directory path (the JSON Lines file store) or a
 * `postgres://…?stream=NAME` URL (the PostgreSQL store, from `@safeguards/audit-log-postgres`).
 *
 * @module
 */
import { existsSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { type AuditStore, openFileStore } from '@safeguards/audit-log'
import { openPostgresStoreFromUrl } from '@safeguards/audit-log-postgres'
import type { CliIO } from '../command.js'
import { UsageError } from '../errors.js'
import { isPostgresUrl } from '../internal/postgres-spec.js'

/** How the log is going to be used. */
export interface OpenLogOptions {
  /** Open without taking locks or changing anything (verify, prove, export). */
  readOnly: boolean
  /** The stream id when a new file log is created (default: the directory name, sanitised). */
  stream?: string
}

/**
 * Opens the store named by `--log`.
 *
 * HIPAA: 164.312(b) audit controls.
 *
 * @throws {UsageError} for an empty value.
 * @throws {InvalidArgumentError} for a postgres URL without `stream` (exit 2).
 * @throws {AuditStoreError} when the log cannot be opened (exit 2).
 * @example
 * ```ts
 * const store = await openLogStore('./audit', io, { readOnly: true })
 * ```
 */
export async function openLogStore(spec: string, io: CliIO, options: OpenLogOptions): Promise<AuditStore> {
  if (spec === '') throw new UsageError('--log is empty')
  if (isPostgresUrl(spec)) {
    // ?stream=NAME (or --stream), &schema=NAME, &migrate=true: see @safeguards/audit-log-postgres.
    return openPostgresStoreFromUrl(spec, { readOnly: options.readOnly, stream: options.stream })
  }
  const dir = resolve(io.cwd, spec)
  let stream = options.stream
  if (stream === undefined && !options.readOnly && !existsSync(join(dir, 'stream.json'))) {
    stream =
      basename(dir)
        .replace(/[^A-Za-z0-9._-]/g, '-')
        .replace(/^[^A-Za-z0-9]+/, '')
        .slice(0, 128) || 'audit'
  }
  return openFileStore({
    dir,
    readOnly: options.readOnly,
    create: !options.readOnly,
    ...(stream === undefined ? {} : { stream }),
  })
}
