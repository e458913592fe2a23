/**
 * Shared plumbing for the envelope commands (`keys`, `encrypt`, `decrypt`, `rewrap`, `inspect`):
 * opening the keyring, the input and output streams (with atomic `--out`), and the mapping from
 * envelope errors to exit codes: 1 for every cryptographic failure (one generic message), 3 when a
 * key is unavailable (naming the key reference), 2 for usage and malformed input.
 *
 * @module
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { rename, unlink } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import type { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { bytesToHex, randomBytes, Secret } from '@safeguards/core'
import {
  EnvelopeDecryptionError,
  KeyringSealedError,
  KeyUnavailableError,
  LocalKeyring,
  type LocalKeyringOptions,
  type MasterSecret,
  UsageLimitError,
} from '@safeguards/envelope'
import { type OptionSpec, optionalString, type ParsedValues, requireString } from '../args.js'
import type { CliIO } from '../command.js'
import { CliExit, UsageError } from '../errors.js'

/** Exit code 3: the key is unavailable. */
export const EXIT_KEY_UNAVAILABLE = 3

/** Options every keyring-using command accepts. */
export const keyringOptions: Record<string, OptionSpec> = {
  keyring: { type: 'string' },
  'master-env': { type: 'string' },
  'passphrase-env': { type: 'string' },
}

/** Help text for the keyring options. */
export const keyringHelp: string = [
  '  --keyring PATH           the local keyring file (mode 0600)',
  '  --master-env VAR         the keyring is sealed under the secret in environment variable VAR',
  '  --passphrase-env VAR     the keyring is sealed under the passphrase in VAR (argon2id)',
].join('\n')

/** The master secret named by `--master-env` / `--passphrase-env`, if any. */
export function masterSecretOf(values: ParsedValues, io: CliIO): MasterSecret | undefined {
  const env = optionalString(values, 'master-env')
  const pass = optionalString(values, 'passphrase-env')
  if (env !== undefined && pass !== undefined)
    throw new UsageError('give --master-env or --passphrase-env, not both')
  if (env !== undefined) {
    if (!io.env[env]) throw new UsageError(`environment variable ${env} is not set`)
    return { env }
  }
  if (pass !== undefined) {
    const value = io.env[pass]
    if (!value) throw new UsageError(`environment variable ${pass} is not set`)
    return { passphrase: Secret.of(value) }
  }
  return undefined
}

/** Keyring options from the command line. */
export function keyringOpts(values: ParsedValues, io: CliIO): LocalKeyringOptions {
  const masterSecret = masterSecretOf(values, io)
  return { env: io.env, ...(masterSecret === undefined ? {} : { masterSecret }) }
}

/** The absolute keyring path from `--keyring`. */
export function keyringPath(values: ParsedValues, io: CliIO): string {
  return resolve(io.cwd, requireString(values, 'keyring'))
}

/** Opens the keyring named on the command line. */
export function openKeyring(values: ParsedValues, io: CliIO): Promise<LocalKeyring> {
  return LocalKeyring.open(keyringPath(values, io), keyringOpts(values, io))
}

/** Maps envelope errors to the documented exit codes; rethrows anything else. */
export function mapEnvelopeError(error: unknown): never {
  if (error instanceof EnvelopeDecryptionError) throw new CliExit(1, 'decryption failed')
  if (error instanceof KeyUnavailableError) {
    throw new CliExit(EXIT_KEY_UNAVAILABLE, `key unavailable: ${error.keyRef} (${error.reason})`)
  }
  if (error instanceof UsageLimitError) {
    throw new CliExit(EXIT_KEY_UNAVAILABLE, `key unavailable: ${error.keyRef} (usage limit reached; rotate)`)
  }
  if (error instanceof KeyringSealedError)
    throw new CliExit(EXIT_KEY_UNAVAILABLE, `key unavailable: ${error.message}`)
  throw error
}

/** The input stream: `--in FILE` or stdin. */
export function inputOf(values: ParsedValues, io: CliIO): Readable {
  const file = optionalString(values, 'in')
  if (file === undefined) return io.stdin as Readable
  const stream = createReadStream(resolve(io.cwd, file), { highWaterMark: 256 * 1024 })
  return stream
}

/**
 * Pipes `input` through `transforms` to `--out FILE` or stdout. With `--out`, the output goes to
 * a temporary file (mode 0600) in the same folder, renamed over FILE only on success: a failed
 * decryption leaves nothing at FILE.
 */
export async function pipeToOutput(
  values: ParsedValues,
  io: CliIO,
  input: Readable,
  transform: NodeJS.ReadWriteStream,
): Promise<void> {
  const out = optionalString(values, 'out')
  if (out === undefined) {
    await pipeline(input, transform, io.stdout as Writable, { end: false })
    return
  }
  const target = resolve(io.cwd, out)
  const tmp = join(dirname(target), `.${basename(target)}.${bytesToHex(randomBytes(6))}.tmp`)
  const sink = createWriteStream(tmp, { flags: 'wx', mode: 0o600 })
  try {
    await pipeline(input, transform, sink)
    await rename(tmp, target)
  } catch (error) {
    await unlink(tmp).catch(() => undefined)
    throw error
  }
}

/** Wraps a file-not-found on `--in` as a usage error. */
export function inputError(error: unknown): never {
  const code = (error as { code?: unknown } | null)?.code
  if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES') {
    throw new UsageError(`cannot read the input (${code})`)
  }
  if (code === 'EEXIST') throw new UsageError('cannot create the temporary output file (EEXIST)')
  throw error
}
