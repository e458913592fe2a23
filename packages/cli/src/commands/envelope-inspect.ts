/**
 * `safeguards inspect`: print an envelope's format, suite, frame length and key references without
 * any key, so batch jobs can find data under old key versions.
 *
 * @module
 */
import { IoError, isSafeguardsError } from '@safeguards/core'
import { inspectEnvelope } from '@safeguards/envelope'
import { parseCommandArgs } from '../args.js'
import type { CliIO, Command } from '../command.js'
import { ExitCode, UsageError } from '../errors.js'
import { FLAG, STRING } from '../internal/options.js'
import { type Prefix, readAtMost } from '../internal/stdin.js'
import { safeText, writeJson, writeLine } from '../output.js'
import { openInput } from './envelope-shared.js'

/** Longest possible header, v1 or v2 (32 wrapped keys of maximal size, 64 KiB stored context; v2 has no tag). */
const MAX_HEADER = 44 + 32 * 5189 + 2 + 65536 + 48

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, { in: STRING, json: FLAG })
  const input = await openInput(values, io)
  let totalLength = input.size
  let prefix: Prefix
  try {
    prefix = await readAtMost(input.stream, MAX_HEADER)
  } catch (error) {
    throw new IoError('read the input', input.path ?? 'stdin', { cause: error })
  } finally {
    input.stream.destroy() // closes the file; only the header is read
  }
  if (prefix.complete) totalLength = prefix.bytes.length
  let info: ReturnType<typeof inspectEnvelope>
  try {
    info = inspectEnvelope(prefix.bytes, {
      maxEdks: 32,
      ...(totalLength === undefined ? {} : { totalLength }),
    })
  } catch (error) {
    // A malformed, unsupported or over-limit header is bad input to this command (exit 2).
    if (isSafeguardsError(error))
      throw new UsageError(`not a valid envelope: ${error.message}`, {
        cause: error,
        category: 'invalid-input',
      })
    throw error
  }
  // Every header field is untrusted input: key references, provider ids and stored context are
  // escaped (jsonText escapes what JSON.stringify leaves raw), so a crafted header cannot drive
  // the terminal or forge lines.
  if (values.json === true) writeJson(io, info)
  else {
    writeLine(io, `format: hge v${info.formatVersion}`)
    writeLine(io, `suite: ${safeText(info.suite)} (0x${info.suiteId.toString(16).padStart(4, '0')})`)
    writeLine(io, `frame length: ${info.frameLength}`)
    writeLine(io, `message id: ${safeText(info.messageId)}`)
    for (const k of info.keys)
      writeLine(io, `key: ${safeText(k.keyRef)} (provider ${safeText(k.providerId)})`)
    for (const [k, v] of Object.entries(info.storedContext))
      writeLine(io, `stored context: ${safeText(k)}=${safeText(v)}`)
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
    'Reads only the header, of format v1 or v2 (--json: formatVersion). Header fields are printed',
    'with control and bidirectional characters escaped (\\x1b, \\u202e); --json escapes them as',
    '\\u001b, \\u202e in the JSON text.',
    '',
    'Exit codes: 0 ok; 2 not an envelope, or usage; 74 the input cannot be read (names the path).',
  ].join('\n'),
  run: ({ argv, io }) => run(argv, io),
}
