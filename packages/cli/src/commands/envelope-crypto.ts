/**
 * `safeguards encrypt|decrypt|rewrap`: stream a file or stdin through envelope encryption,
 * decryption or a header-only rewrap, in bounded memory.
 *
 * @module
 */
import { createEnvelope, type Envelope, toNodeStream } from '@safeguards/envelope'
import { keyValues, parseCommandArgs } from '../args.js'
import type { CliIO, Command } from '../command.js'
import { ExitCode, UsageError } from '../errors.js'
import {
  inputError,
  inputOf,
  keyringHelp,
  keyringOptions,
  mapEnvelopeError,
  openKeyring,
  pipeToOutput,
} from './envelope-shared.js'

type Mode = 'encrypt' | 'decrypt' | 'rewrap'

const SUMMARIES: Record<Mode, string> = {
  encrypt: 'encrypt a file or stdin with envelope encryption (AES-256-GCM, key commitment)',
  decrypt: 'decrypt an envelope; --out is written atomically and only on success',
  rewrap: 'move an envelope to the primary key version, rewriting only the header',
}

function usage(mode: Mode): string {
  return [
    `Usage: safeguards ${mode} --keyring PATH [--context KEY=VALUE]... [--in FILE] [--out FILE]${mode === 'rewrap' ? ' [--to KEYREF]' : ''}`,
    '',
    SUMMARIES[mode],
    '',
    keyringHelp,
    '  --context KEY=VALUE      encryption context (repeatable); decrypt and rewrap need the same pairs',
    '  --in FILE                input (default stdin)',
    '  --out FILE               output (default stdout); written to a temp file and renamed on success',
    ...(mode === 'rewrap'
      ? ['  --to KEYREF              wrap under this version instead of the primary']
      : []),
    ...(mode === 'encrypt'
      ? ['  --frame-length BYTES     plaintext bytes per frame (4096..16777216, default 262144)']
      : []),
    '',
    'Exit codes: 0 ok; 1 decryption failed (any cryptographic failure: wrong key, wrong context,',
    'tampering, truncation); 2 usage or malformed input; 3 key unavailable (names the key reference).',
  ].join('\n')
}

function transformFor(mode: Mode, env: Envelope, context: Record<string, string>, to: string | undefined) {
  if (mode === 'encrypt') return env.encryptStream(context)
  if (mode === 'decrypt') return env.decryptStream(context)
  return env.rewrapStream(context, to === undefined ? {} : { to })
}

async function run(mode: Mode, argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    ...keyringOptions,
    context: { type: 'string', multiple: true },
    in: { type: 'string' },
    out: { type: 'string' },
    ...(mode === 'rewrap' ? { to: { type: 'string' } } : {}),
    ...(mode === 'encrypt' ? { 'frame-length': { type: 'string' } } : {}),
  })
  const context = { ...keyValues(values.context as string[] | undefined, 'context') }
  let frameLength: number | undefined
  if (typeof values['frame-length'] === 'string') {
    frameLength = Number(values['frame-length'])
    if (!Number.isSafeInteger(frameLength)) throw new UsageError('--frame-length expects an integer')
  }
  try {
    const keyring = await openKeyring(values, io)
    const env = createEnvelope({ provider: keyring, ...(frameLength === undefined ? {} : { frameLength }) })
    const to = typeof values.to === 'string' ? values.to : undefined
    const input = inputOf(values, io)
    await pipeToOutput(values, io, input, toNodeStream(transformFor(mode, env, context, to))).catch(
      inputError,
    )
  } catch (error) {
    mapEnvelopeError(error)
  }
  return ExitCode.OK
}

function command(mode: Mode): Command {
  return {
    name: mode,
    summary: SUMMARIES[mode],
    usage: usage(mode),
    run: ({ argv, io }) => run(mode, argv, io),
  }
}

/** `safeguards encrypt`. */
export const encryptCommand: Command = command('encrypt')
/** `safeguards decrypt`. */
export const decryptCommand: Command = command('decrypt')
/** `safeguards rewrap`. */
export const rewrapCommand: Command = command('rewrap')
