/**
 * Helpers shared by the `safeguards audit` subcommands: JSON files given on the command line, the
 * checkpoint keyring from `--public-key`, integer options, and a read-only store for one command.
 *
 * @module
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import {
  type AuditEvent,
  type AuditStore,
  createKeyring,
  type Keyring,
  type KeyringEntry,
  openAuditLog,
  validateEvent,
} from '@safeguards/audit-log'
import { parseJson } from '@safeguards/core'
import { errorCode } from '@safeguards/core/node'
import type { OptionSpec, ParsedValues } from '../args.js'
import type { CliIO } from '../command.js'
import { UsageError } from '../errors.js'
import { integerOption, STRING } from '../internal/options.js'
import { openLogStore } from './audit-open-log.js'

/** The `--log` option every subcommand that reads a log takes. */
export const LOG_OPTS: Readonly<Record<'log', OptionSpec>> = { log: STRING }

/**
 * Reads and parses a JSON file named on the command line.
 *
 * @throws {UsageError} when it cannot be read or is not JSON (naming `what`, never the contents).
 * @example
 * ```ts
 * const bundle = readJsonFile(io, 'proof.json', '--proof')
 * ```
 */
export function readJsonFile(io: CliIO, path: string, what: string): unknown {
  let text: string
  try {
    text = readFileSync(resolve(io.cwd, path), 'utf8')
  } catch (e) {
    throw new UsageError(`cannot read ${what} (${errorCode(e) ?? 'error'})`, { cause: e })
  }
  try {
    return parseJson(text)
  } catch (e) {
    throw new UsageError(`${what} is not valid JSON`, { cause: e })
  }
}

/**
 * The checkpoint keyring from every `--public-key` file (a JWK or a JWKS each; private members are
 * dropped), or undefined when none was given.
 *
 * @throws {UsageError} for an unreadable file or a key the keyring refuses.
 * @example
 * ```ts
 * const keyring = await keyringFrom(io, values)
 * ```
 */
export async function keyringFrom(io: CliIO, values: ParsedValues): Promise<Keyring | undefined> {
  const files = values['public-key']
  if (!Array.isArray(files) || files.length === 0) return undefined
  const entries: KeyringEntry[] = []
  for (const f of files) {
    const v = readJsonFile(io, f, '--public-key') as { keys?: unknown }
    const list = Array.isArray(v.keys) ? v.keys : [v]
    for (const jwk of list) {
      const { d: _d, ...pub } = jwk as Record<string, unknown>
      entries.push({ publicJwk: pub })
    }
  }
  try {
    return await createKeyring(entries)
  } catch (e) {
    throw new UsageError(`--public-key: ${e instanceof Error ? e.message : 'invalid key'}`, { cause: e })
  }
}

/**
 * A non-negative integer option, or undefined when absent.
 *
 * @throws {UsageError} when it is not a non-negative integer.
 * @example
 * ```ts
 * const seq = nonNegative(values, 'seq')
 * ```
 */
export function nonNegative(values: ParsedValues, name: string): number | undefined {
  return integerOption(values, name, { expects: 'a non-negative integer' })
}

/**
 * Runs `f` on the log opened read-only, and closes it.
 *
 * @throws whatever opening the log or `f` throws.
 * @example
 * ```ts
 * const n = await withReadOnly(io, '--log value', async (store) => (await store.head()).size)
 * ```
 */
export async function withReadOnly<T>(io: CliIO, spec: string, f: (s: AuditStore) => Promise<T>): Promise<T> {
  const store = await openLogStore(spec, io, { readOnly: true })
  try {
    return await f(store)
  } finally {
    await store.close()
  }
}

/**
 * The requesting agent of a report or review run: the person named by `--by`, else the CLI itself.
 *
 * @example
 * ```ts
 * runAgent('Practitioner/privacy-1') // { who: 'Practitioner/privacy-1', requestor: true, type: 'humanuser' }
 * ```
 */
export function runAgent(by: string | undefined): AuditEvent['agents'][number] {
  return by === undefined
    ? { who: 'safeguards-cli', requestor: true, type: 'application' }
    : { who: by, requestor: true, type: 'humanuser' }
}

/** The agent every run of the SDK's review tools adds to its record, so reviews are found by index. */
export const REVIEW_AGENT = 'safeguards-monitor'

/**
 * Appends the record of a report or review run (validated first) and resolves with its seq once it
 * is durable. The log takes its lock per batch, so this works beside the running application.
 *
 * @throws {AuditEventError} for an invalid event; whatever opening or appending throws.
 * @example
 * ```ts
 * const seq = await recordRun('./audit', io, event)
 * ```
 */
export async function recordRun(spec: string, io: CliIO, event: AuditEvent): Promise<number> {
  const checked = validateEvent(event)
  const store = await openLogStore(spec, io, { readOnly: false })
  const log = await openAuditLog({ store, checkpointEvery: { ms: 0 } })
  try {
    return (await log.append(checked)).seq
  } finally {
    await log.close()
  }
}
