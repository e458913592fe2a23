/**
 * `safeguards inspect`: print an envelope's format, suite, frame length and key references without
 * any key, so batch jobs can find data under old key versions.
 *
 * @module
 */
import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { Readable } from 'node:stream'
import { EnvelopeFormatError, inspectEnvelope } from '@safeguards/envelope'
import { optionalString, parseCommandArgs } from '../args.js'
import type { CliIO, Command } from '../command.js'
import { ExitCode, UsageError } from '../errors.js'
import { writeJson, writeLine } from '../output.js'
import { inputError, inputOf } from './envelope-shared.js'

/** Reads at most `limit` bytes; reports whether the input ended within them. */
async function readPrefix(input: Readable, limit: number): Promise<{ bytes: Uint8Array; complete: boolean }> {
  const parts: Uint8Array[] = []
  let size = 0
  let complete = true
  for await (const chunk of input) {
    const c = chunk as Uint8Array
    parts.push(c)
    size += c.length
    if (size > limit) {
      complete = false
      break
    }
  }
  input.destroy()
  const bytes = new Uint8Array(size)
  let o = 0
  for (const p of parts) {
    bytes.set(p, o)
    o += p.length
  }
  return { bytes: bytes.subarray(0, Math.min(size, limit)), complete }
}

/** Longest possible v1 header (32 wrapped keys of maximal size, 64 KiB stored context). */
const MAX_HEADER = 44 + 32 * 5189 + 2 + 65536 + 48

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, { in: { type: 'string' }, json: { type: 'boolean' } })
  let prefix: { bytes: Uint8Array; complete: boolean }
  let totalLength: number | undefined
  try {
    const file = optionalString(values, 'in')
    if (file !== undefined) totalLength = (await stat(resolve(io.cwd, file))).size
    prefix = await readPrefix(inputOf(values, io), MAX_HEADER)
  } catch (error) {
    inputError(error)
  }
  if (prefix.complete) totalLength = prefix.bytes.length
  let info: ReturnType<typeof inspectEnvelope>
  try {
    info = inspectEnvelope(prefix.bytes, {
      maxEdks: 32,
      ...(totalLength === undefined ? {} : { totalLength }),
    })
  } catch (error) {
    if (
      error instanceof EnvelopeFormatError ||
      (error as { code?: string }).code?.startsWith('ERR_ENVELOPE')
    ) {
      throw new UsageError(`not a valid envelope: ${(error as Error).message}`)
    }
    throw error
  }
  if (values.json === true) writeJson(io, info)
  else {
    writeLine(io, `format: hge v${info.formatVersion}`)
    writeLine(io, `suite: ${info.suite} (0x${info.suiteId.toString(16).padStart(4, '0')})`)
    writeLine(io, `frame length: ${info.frameLength}`)
    writeLine(io, `message id: ${info.messageId}`)
    for (const k of info.keys) writeLine(io, `key: ${k.keyRef} (provider ${k.providerId})`)
    for (const [k, v] of Object.entries(info.storedContext)) writeLine(io, `stored context: ${k}=${v}`)
    if (info.body) writeLine(io, `frames: ${info.body.frames}, plaintext bytes: ${info.body.plaintextLength}`)
  }
  return ExitCode.OK
}

/** `safeguards inspect`. */
export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'show an envelope’s format, suite and key references (no keys needed)',
  usage: [
    'Usage: safeguards inspect [--in FILE] [--json]',
    '',
    'Reads only the header. Exit codes: 0 ok; 2 not an envelope, or usage.',
  ].join('\n'),
  run: ({ argv, io }) => run(argv, io),
}
