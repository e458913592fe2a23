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
import { parseCommandArgs, requireString, unknownSubcommand } from '../args.js'
import type { CliIO, Command } from '../command.js'
import { CliExit, ExitCode, UsageError } from '../errors.js'
import { safeText, writeJson, writeLine } from '../output.js'
import { mapEnvelopeError } from './envelope-shared.js'
import { DEFAULT_PIN_ENV, hsmOptions, MODULE_ENV, mapTokenError, openHsm } from './hsm-shared.js'

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

function versionOf(values: Record<string, unknown>): number {
  const v = Number(requireString(values as Record<string, string>, 'version'))
  if (!Number.isSafeInteger(v) || v < 1) throw new UsageError('--version expects a positive integer')
  return v
}

async function withProvider<T>(
  values: Record<string, unknown>,
  io: CliIO,
  fn: (hsm: Pkcs11KekProvider) => Promise<T>,
): Promise<T> {
  const hsm = await openHsm(values as Record<string, string>, io)
  try {
    return await fn(hsm)
  } finally {
    await hsm.close()
  }
}

async function run(argv: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = argv
  const { values } = parseCommandArgs(rest, {
    ...hsmOptions,
    version: { type: 'string' },
    stage: { type: 'boolean' },
    json: { type: 'boolean' },
    'allow-destroy': { type: 'boolean' },
  })
  try {
    switch (sub) {
      case 'list':
        return await withProvider(values, io, async (hsm) => {
          const keys = await hsm.list()
          if (values.json === true) {
            writeJson(io, {
              token: hsm.token,
              keyName: hsm.keyName,
              keys: keys.map((k) => ({
                keyRef: k.keyRef,
                version: k.version,
                state: k.state,
                retired: k.retired === true,
                createdAt: k.createdAt === undefined ? null : new Date(k.createdAt).toISOString(),
              })),
            })
          } else {
            for (const k of keys) {
              const created = k.createdAt === undefined ? '-' : new Date(k.createdAt).toISOString()
              writeLine(io, `${safeText(k.keyRef)}\t${k.retired ? 'retired' : k.state}\t${created}`)
            }
          }
          return ExitCode.OK
        })
      case 'rotate':
        return await withProvider(values, io, async (hsm) => {
          const d = values.stage === true ? await hsm.addVersion() : await hsm.rotate()
          writeLine(
            io,
            `${safeText(d.keyRef)} generated in token "${safeText(hsm.token.label)}" (${d.state})`,
          )
          return ExitCode.OK
        })
      case 'promote':
      case 'retire':
      case 'disable':
      case 'enable': {
        const version = versionOf(values)
        return await withProvider(values, io, async (hsm) => {
          const d = await hsm[sub](version)
          writeLine(io, `${safeText(d.keyRef)} ${d.retired ? 'retired' : d.state}`)
          return ExitCode.OK
        })
      }
      case 'destroy': {
        const version = versionOf(values)
        if (values['allow-destroy'] !== true) {
          throw new UsageError('destroy erases the key in the token for good; add --allow-destroy to confirm')
        }
        return await withProvider(values, io, async (hsm) => {
          const d = await hsm.destroy(version, { allowDestroy: true })
          writeLine(io, `${safeText(d.keyRef)} destroyed`)
          return ExitCode.OK
        })
      }
      case 'check':
        return await withProvider(values, io, async (hsm) => {
          const dek = randomBytes(32)
          const aad = utf8Encode(`safeguards hsm check ${bytesToHex(randomBytes(8))}`)
          const { keyRef, edk } = await hsm.wrap(dek, aad)
          const back = await hsm.unwrap(edk, keyRef, aad)
          if (!timingSafeEqual(back, dek)) throw new CliExit(1, 'check failed: the unwrapped key differs')
          writeLine(
            io,
            `ok: wrapped and unwrapped under ${safeText(keyRef)} in token "${safeText(hsm.token.label)}"`,
          )
          return ExitCode.OK
        })
      default:
        throw unknownSubcommand('hsm', sub, [
          'list',
          'rotate',
          'promote',
          'retire',
          'disable',
          'enable',
          'destroy',
          'check',
        ])
    }
  } catch (error) {
    if (error instanceof KeyringStateError) throw new CliExit(ExitCode.USAGE, error.message, { cause: error })
    return mapEnvelopeError(await mapTokenError(error))
  }
}

/** `safeguards hsm`. */
export const hsmCommand: Command = {
  name: 'hsm',
  summary: 'manage a KEK in an HSM token (PKCS#11): list, rotate, promote, retire, destroy, check',
  usage,
  run: ({ argv, io }) => run(argv, io),
}
