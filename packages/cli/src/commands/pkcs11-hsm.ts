/**
 * `safeguards hsm list|rotate|promote|retire|disable|enable|destroy|check`: the lifecycle of a KEK
 * held in an HSM token through PKCS#11 (`@safeguards/pkcs11`), run from an administration host.
 * The PIN is read from an environment variable, never from the command line (where `ps` and shell
 * history would show it).
 *
 * @module
 */
import { bytesToHex, randomBytes, timingSafeEqual, utf8Encode } from '@safeguards/core'
import { KeyringStateError } from '@safeguards/envelope'
import type { Pkcs11KekProvider } from '@safeguards/pkcs11'
import { type ParsedValues, parseCommandArgs } from '../args.js'
import type { CliIO, Command } from '../command.js'
import { CliExit, ExitCode, UsageError } from '../errors.js'
import { FLAG, STRING, versionOption } from '../internal/options.js'
import { commandOf, type Subcommand } from '../internal/subcommands.js'
import { safeText, writeJson, writeLine } from '../output.js'
import { mapEnvelopeError } from './envelope-shared.js'
import { DEFAULT_PIN_ENV, hsmOptions, MODULE_ENV, mapTokenError, openHsm } from './hsm-shared.js'
import { keyVersionDocument, keyVersionLine } from './key-versions.js'

const usage = [
  'Usage: safeguards hsm <list|rotate|promote|retire|disable|enable|destroy|check> --key-name NAME',
  '                      (--token-label LABEL | --token-serial SERIAL) [--module PATH] [options]',
  '',
  '  list [--json]                       versions, states and created-at',
  '  rotate [--stage]                    generate a version in the token and promote it; --stage only adds it',
  '  promote --version N                 make version N the primary',
  '  retire --version N                  disable N in the token once everything is rewrapped',
  '  disable --version N | enable --version N',
  '  destroy --version N --allow-destroy destroy N in the token (it must be retired or disabled first)',
  '  check                               wrap and unwrap a random key through the token (health check)',
  '',
  `  --module PATH        the PKCS#11 library (default: $${MODULE_ENV})`,
  `  --pin-env NAME       environment variable holding the user PIN (default ${DEFAULT_PIN_ENV})`,
  '  --provider-id ID     provider id in key references (default pkcs11)',
  '',
  'Exit codes: 0 ok; 1 check failed (the unwrapped key differs); 2 usage or a forbidden transition;',
  '3 key or token unavailable (library, token, PIN).',
].join('\n')

const OPTIONS = { ...hsmOptions, version: STRING, stage: FLAG, json: FLAG, 'allow-destroy': FLAG }

/** What a subcommand does with the token, once its options are checked. */
type TokenStep = (hsm: Pkcs11KekProvider) => Promise<string[]>

/**
 * An `hsm` subcommand: its options parsed and checked by `prepare` before the token is opened (a
 * usage error needs no PIN), the token opened for the step and closed after it, the lines printed,
 * and token and envelope errors mapped to the documented exit codes.
 */
function tokenSubcommand(prepare: (values: ParsedValues, io: CliIO) => TokenStep): Subcommand {
  return async (argv, io) => {
    const { values } = parseCommandArgs(argv, OPTIONS)
    try {
      const step = prepare(values, io)
      const hsm = await openHsm(values, io)
      try {
        for (const line of await step(hsm)) writeLine(io, line)
      } finally {
        await hsm.close()
      }
    } catch (error) {
      if (error instanceof KeyringStateError)
        throw new CliExit(ExitCode.USAGE, error.message, { cause: error })
      mapEnvelopeError(await mapTokenError(error))
    }
    return ExitCode.OK
  }
}

const list =
  (values: ParsedValues, io: CliIO): TokenStep =>
  async (hsm) => {
    const keys = await hsm.list()
    if (values.json !== true) return keys.map(keyVersionLine)
    writeJson(io, { token: hsm.token, keyName: hsm.keyName, keys: keys.map(keyVersionDocument) })
    return []
  }

const rotate =
  (values: ParsedValues): TokenStep =>
  async (hsm) => {
    const d = values.stage === true ? await hsm.addVersion() : await hsm.rotate()
    return [`${safeText(d.keyRef)} generated in token "${safeText(hsm.token.label)}" (${d.state})`]
  }

/** `promote`, `retire`, `disable` or `enable` of `--version N`. */
const transition =
  (op: 'promote' | 'retire' | 'disable' | 'enable') =>
  (values: ParsedValues): TokenStep => {
    const version = versionOption(values)
    return async (hsm) => {
      const d = await hsm[op](version)
      return [`${safeText(d.keyRef)} ${d.retired ? 'retired' : d.state}`]
    }
  }

const destroy = (values: ParsedValues): TokenStep => {
  const version = versionOption(values)
  if (values['allow-destroy'] !== true)
    throw new UsageError('destroy erases the key in the token for good; add --allow-destroy to confirm')
  return async (hsm) => [`${safeText((await hsm.destroy(version, { allowDestroy: true })).keyRef)} destroyed`]
}

/** Wraps and unwraps a random key through the token: the unwrapped key must be the same. */
const check = (): TokenStep => async (hsm) => {
  const dek = randomBytes(32)
  const aad = utf8Encode(`safeguards hsm check ${bytesToHex(randomBytes(8))}`)
  const { keyRef, edk } = await hsm.wrap(dek, aad)
  const back = await hsm.unwrap(edk, keyRef, aad)
  if (!timingSafeEqual(back, dek)) throw new CliExit(1, 'check failed: the unwrapped key differs')
  return [`ok: wrapped and unwrapped under ${safeText(keyRef)} in token "${safeText(hsm.token.label)}"`]
}

/** `safeguards hsm`. */
export const hsmCommand: Command = commandOf({
  name: 'hsm',
  summary: 'manage a KEK in an HSM token (PKCS#11): list, rotate, promote, retire, destroy, check',
  usage,
  subcommands: {
    list: tokenSubcommand(list),
    rotate: tokenSubcommand(rotate),
    promote: tokenSubcommand(transition('promote')),
    retire: tokenSubcommand(transition('retire')),
    disable: tokenSubcommand(transition('disable')),
    enable: tokenSubcommand(transition('enable')),
    destroy: tokenSubcommand(destroy),
    check: tokenSubcommand(check),
  },
})
