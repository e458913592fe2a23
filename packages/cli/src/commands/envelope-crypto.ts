/**
 * `safeguards encrypt|decrypt|rewrap`: stream a file or stdin through envelope encryption,
 * decryption or a header-only rewrap, in bounded memory. The data keys are wrapped by the local
 * keyring (`--keyring`), by a KEK in an HSM token (`--key-name` and the token options), or by both
 * (each envelope then carries one wrapped key per provider, and either can open it).
 *
 * @module
 */
import { createEnvelope, type Envelope, type KekProvider, toNodeStream } from '@safeguards/envelope'
import { keyValues, type ParsedValues, parseCommandArgs } from '../args.js'
import type { CliIO, Command } from '../command.js'
import { ExitCode, UsageError } from '../errors.js'
import { optionSpecs, STRING } from '../internal/options.js'
import { createProgress, type Progress } from '../output.js'
import {
  checkRecipientOptions,
  identityHelp,
  openRecipients,
  recipientHelp,
  recipientOptions,
  wantsRecipients,
} from './envelope-recipients.js'
import {
  keyringHelp,
  keyringOptions,
  mapEnvelopeError,
  openInput,
  openKeyring,
  pipeToOutput,
} from './envelope-shared.js'
import { hsmHelp, hsmOptions, mapTokenError, openHsm, wantsHsm } from './hsm-shared.js'

type Mode = 'encrypt' | 'decrypt' | 'rewrap'

const SUMMARIES: Record<Mode, string> = {
  encrypt: 'encrypt a file or stdin with envelope encryption (AES-256-GCM, key commitment)',
  decrypt: 'decrypt an envelope; --out is written atomically and only on success',
  rewrap: 'move an envelope to the primary key version, rewriting only the header',
}

function usage(mode: Mode): string {
  return [
    `Usage: safeguards ${mode} (--keyring PATH | --key-name NAME --token-label LABEL | ${mode === 'decrypt' ? '--identity KEYFILE' : mode === 'encrypt' ? '--recipient PUBKEY' : '--identity KEYFILE --recipient PUBKEY'}...)`,
    '                          [--context KEY=VALUE]...',
    `                          [--in FILE] [--out FILE] [--progress]${mode === 'rewrap' ? ' [--to KEYREF]' : ''}`,
    '',
    SUMMARIES[mode],
    '',
    "Keys: the local keyring, a KEK in an HSM token through PKCS#11, recipients' X25519 public keys",
    '(HPKE), or several of these (one wrapped key each; any one opens).',
    keyringHelp,
    hsmHelp,
    ...(mode === 'decrypt' ? [] : [recipientHelp]),
    ...(mode === 'encrypt' ? [] : [identityHelp]),
    '  --context KEY=VALUE      encryption context (repeatable); decrypt and rewrap need the same pairs',
    '  --in FILE                input (default stdin)',
    '  --out FILE               output (default stdout); written to a temp file, fsynced and renamed on success',
    '  --progress               show progress on stderr even when it is not a terminal (on a terminal it',
    '                           is shown anyway; never on stdout)',
    ...(mode === 'rewrap'
      ? ['  --to KEYREF              wrap under this version instead of the primary']
      : []),
    ...(mode === 'encrypt'
      ? ['  --frame-length BYTES     plaintext bytes per frame (4096..16777216, default 262144)']
      : []),
    '',
    'Exit codes: 0 ok; 1 decryption failed (any cryptographic failure: wrong key, wrong context,',
    'tampering, truncation); 2 usage or malformed input; 3 key unavailable (names the key reference),',
    'or the token, its library or the PIN unavailable; 74 I/O error (names the path and whether',
    'reading the input, creating or writing the output, or reading the keyring failed); 75 the',
    'keyring lock is held by another process or was lost (retry).',
  ].join('\n')
}

function transformFor(mode: Mode, env: Envelope, context: Record<string, string>, to: string | undefined) {
  if (mode === 'encrypt') return env.encryptStream(context)
  if (mode === 'decrypt') return env.decryptStream(context)
  return env.rewrapStream(context, to === undefined ? {} : { to })
}

/** The providers named on the command line: the keyring, the token, or both. The caller closes them. */
async function openProviders(values: ParsedValues, io: CliIO, opened: KekProvider[]): Promise<void> {
  const local = values.keyring !== undefined
  const hsm = wantsHsm(values)
  if (!local && !hsm && !wantsRecipients(values))
    throw new UsageError('give --keyring PATH, --key-name with a token, --recipient or --identity')
  if (local) opened.push(await openKeyring(values, io))
  if (hsm) opened.push(await openHsm(values, io))
  const recipients = await openRecipients(values, io)
  if (recipients !== undefined) opened.push(recipients)
}

async function run(mode: Mode, argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    ...keyringOptions,
    ...hsmOptions,
    ...recipientOptions,
    ...optionSpecs({ strings: ['in', 'out'], flags: ['progress'], repeated: ['context'] }),
    ...(mode === 'rewrap' ? { to: STRING } : {}),
    ...(mode === 'encrypt' ? { 'frame-length': STRING } : {}),
  })
  checkRecipientOptions(mode, values)
  const context = { ...keyValues(values.context as string[] | undefined, 'context') }
  let frameLength: number | undefined
  if (typeof values['frame-length'] === 'string') {
    frameLength = Number(values['frame-length'])
    if (!Number.isSafeInteger(frameLength)) throw new UsageError('--frame-length expects an integer')
  }
  const providers: KekProvider[] = []
  let progress: Progress | undefined
  try {
    await openProviders(values, io, providers)
    const env = createEnvelope({
      providers,
      ...(frameLength === undefined ? {} : { frameLength }),
    })
    const to = typeof values.to === 'string' ? values.to : undefined
    const input = await openInput(values, io)
    // Progress only where someone watches (a terminal) or when asked for: never on stdout.
    if (io.stderr.isTTY === true || values.progress === true) {
      progress = createProgress(io, {
        label: 'bytes',
        unit: 'bytes',
        final: true,
        ...(input.size === undefined ? {} : { total: input.size }),
      })
    }
    const tick = progress === undefined ? undefined : progress.tick.bind(progress)
    await pipeToOutput(
      values,
      io,
      input,
      toNodeStream(transformFor(mode, env, context, to)),
      tick === undefined ? undefined : { onBytes: tick },
    )
  } catch (error) {
    mapEnvelopeError(wantsHsm(values) ? await mapTokenError(error) : error)
  } finally {
    progress?.done() // ends the bar's line before an error message
    await Promise.all(providers.map((p) => p.close?.()))
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
