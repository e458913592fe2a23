/**
 * Shared plumbing for the envelope commands (`keys`, `encrypt`, `decrypt`, `rewrap`, `inspect`):
 * opening the keyring, the input and output streams (with atomic, durable `--out`), and the
 * mapping from envelope errors to exit codes: 1 for every cryptographic failure (one generic
 * message), 3 when a key is unavailable (naming the key reference), 75 when the keyring lock is
 * held by another process or was lost; everything else by the global table (2 usage and malformed
 * input, 74 I/O naming the path and what was attempted).
 *
 * @module
 */
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { open, rename, stat, unlink } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { PassThrough, type Readable, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { bytesToHex, IoError, isSafeguardsError, randomBytes, Secret } from '@safeguards/core'
import { fsyncDir } from '@safeguards/core/node'
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
import { CliExit, ExitCode, UsageError } from '../errors.js'
import { optionSpecs } from '../internal/options.js'

/** Exit code 3: the key is unavailable. */
export const EXIT_KEY_UNAVAILABLE: 3 = ExitCode.KEY_UNAVAILABLE

/** Options every keyring-using command accepts. */
export const keyringOptions: Record<string, OptionSpec> = optionSpecs({
  strings: ['keyring', 'master-env', 'passphrase-env'],
})

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

/**
 * Maps envelope errors to the documented exit codes (1 decryption failed, 3 key unavailable or
 * usage limit reached, 75 keyring lock lost); rethrows anything else for the global table.
 */
export function mapEnvelopeError(error: unknown): never {
  if (error instanceof EnvelopeDecryptionError)
    throw new CliExit(ExitCode.CHECK_FAILED, 'decryption failed', { cause: error })
  if (error instanceof KeyUnavailableError) {
    throw new CliExit(EXIT_KEY_UNAVAILABLE, `key unavailable: ${error.keyRef} (${error.reason})`, {
      cause: error,
    })
  }
  if (error instanceof UsageLimitError) {
    throw new CliExit(
      EXIT_KEY_UNAVAILABLE,
      `key unavailable: ${error.keyRef} (usage limit reached; rotate)`,
      {
        cause: error,
      },
    )
  }
  if (error instanceof KeyringSealedError)
    throw new CliExit(EXIT_KEY_UNAVAILABLE, `key unavailable: ${error.message}`, { cause: error })
  // The envelope README's table: a lock taken away before the write is a retry, like a timeout.
  if (isSafeguardsError(error, 'ERR_LOCK_LOST'))
    throw new CliExit(ExitCode.TEMPFAIL, `${error.message} (${error.code})`, { cause: error })
  throw error
}

/** A system error with `code`, as the cause of an {@link IoError} the CLI detects itself. */
function systemError(code: string): Error {
  return Object.assign(new Error(code), { code })
}

/** The input of a stream command. */
export interface Input {
  /** The bytes. */
  readonly stream: Readable
  /** The absolute path of `--in`, or undefined for stdin. */
  readonly path: string | undefined
  /** The input's size in bytes, when it is a regular file. */
  readonly size: number | undefined
}

/**
 * Opens the input: `--in FILE` or stdin.
 *
 * @throws {IoError} naming the file when it cannot be opened for reading or is a directory.
 */
export async function openInput(values: ParsedValues, io: CliIO): Promise<Input> {
  const file = optionalString(values, 'in')
  if (file === undefined) return { stream: io.stdin as Readable, path: undefined, size: undefined }
  const path = resolve(io.cwd, file)
  let fh: Awaited<ReturnType<typeof open>>
  try {
    fh = await open(path, 'r')
  } catch (e) {
    throw new IoError('read the input', path, { cause: e })
  }
  try {
    const info = await fh.stat()
    if (info.isDirectory()) throw systemError('EISDIR')
    return {
      stream: fh.createReadStream({ highWaterMark: 256 * 1024 }),
      path,
      size: info.isFile() ? info.size : undefined,
    }
  } catch (e) {
    await fh.close().catch(() => undefined)
    throw new IoError('read the input', path, { cause: e })
  }
}

/** Options of {@link pipeToOutput}. */
export interface PipeOptions {
  /** Called with the number of input bytes as they are read (for progress). */
  onBytes?: (n: number) => void
}

/** Which stream of a pipeline failed first, so the error blames the right side. */
function watchFirstError(
  streams: Array<[NodeJS.EventEmitter, 'input' | 'output']>,
): () => 'input' | 'output' | undefined {
  let first: 'input' | 'output' | undefined
  for (const [stream, side] of streams) {
    stream.once('error', () => {
      if (first === undefined) first = side
    })
  }
  return () => first
}

/**
 * Runs the pipeline and turns a stream failure into an {@link IoError} that names the side that
 * failed (reading the input, writing the output); SDK errors from `transform` pass unchanged.
 * Stdout (`end: false`) stays open afterwards.
 */
async function runPipeline(
  input: Input,
  transform: NodeJS.ReadWriteStream,
  sink: Writable,
  output: { name: string; end: boolean },
  options: PipeOptions | undefined,
): Promise<void> {
  const failedSide = watchFirstError([
    [input.stream, 'input'],
    [sink, 'output'],
  ])
  const stages: NodeJS.ReadWriteStream[] = []
  const onBytes = options?.onBytes
  if (onBytes !== undefined) {
    const counter = new PassThrough()
    counter.on('data', (c: Uint8Array) => onBytes(c.length))
    stages.push(counter)
  }
  try {
    await pipeline([input.stream, ...stages, transform, sink], { end: output.end })
  } catch (error) {
    if (isSafeguardsError(error)) throw error
    const side = failedSide()
    if (side === 'input') throw new IoError('read the input', input.path ?? 'stdin', { cause: error })
    if (side === 'output') throw new IoError('write the output', output.name, { cause: error })
    throw error
  }
}

/**
 * Pipes `input` through `transform` to `--out FILE` or stdout. With `--out`, the output goes to a
 * temporary file (mode 0600) in the same folder, which is fsynced and renamed over FILE only on
 * success, and the folder is fsynced after the rename: a failed decryption leaves nothing at FILE,
 * and a crash leaves the old FILE or the complete new one. This is `writeFileAtomic`'s sequence
 * (`@safeguards/core/node`) for a stream: the output can be far larger than memory, and
 * `writeFileAtomic` takes the whole content as bytes.
 *
 * @throws {IoError} naming the path and what was attempted (reading the input, creating or writing
 * the output) when the file system refuses.
 */
export async function pipeToOutput(
  values: ParsedValues,
  io: CliIO,
  input: Input,
  transform: NodeJS.ReadWriteStream,
  options?: PipeOptions,
): Promise<void> {
  const out = optionalString(values, 'out')
  if (out === undefined) {
    await runPipeline(input, transform, io.stdout as Writable, { name: 'stdout', end: false }, options)
    return
  }
  const target = resolve(io.cwd, out)
  const tmp = join(dirname(target), `.${basename(target)}.${bytesToHex(randomBytes(6))}.tmp`)
  const abandon = (e: unknown): never => {
    if (input.path !== undefined) input.stream.destroy() // closes the file; stdin is the process's
    throw new IoError('create the output', target, { cause: e })
  }
  // Refuse a directory before any work (the rename at the end would fail with EISDIR anyway).
  if ((await stat(target).catch(() => undefined))?.isDirectory()) abandon(systemError('EISDIR'))
  // flush: the file is fsynced before it is closed (and the pipeline settles only after that).
  const sink = createWriteStream(tmp, { flags: 'wx', mode: 0o600, flush: true })
  try {
    await once(sink, 'open')
  } catch (e) {
    abandon(e) // 'wx' failed, so there is no temporary file to remove
  }
  let renamed = false
  try {
    await runPipeline(input, transform, sink, { name: target, end: true }, options)
    try {
      await rename(tmp, target)
      renamed = true
    } catch (e) {
      throw new IoError('create the output', target, { cause: e })
    }
    await fsyncDir(dirname(target))
  } finally {
    if (!renamed) await unlink(tmp).catch(() => undefined)
  }
}
