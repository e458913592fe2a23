/**
 * Shared plumbing for the commands that reach a KEK in an HSM token through PKCS#11: `hsm` (the
 * key lifecycle) and `encrypt|decrypt|rewrap` (with `--key-name`, the data keys are wrapped and
 * unwrapped inside the token). The PIN comes from an environment variable, never from the command
 * line. `@safeguards/pkcs11` (and its native `pkcs11js` binding) is an optional peer dependency,
 * imported only when a command asks for a token: keyring-only users never install or build it, and
 * a command that needs it while it is absent exits 3 (key or token unavailable) with one line
 * naming the package to install.
 *
 * @module
 */
import { Secret } from '@safeguards/core'
import { errorCode } from '@safeguards/core/node'
import type * as Pkcs11Package from '@safeguards/pkcs11'
import type { Pkcs11KekProvider, Pkcs11ProviderOptions } from '@safeguards/pkcs11'
import { type OptionSpec, optionalString, type ParsedValues, requireString } from '../args.js'
import type { CliIO } from '../command.js'
import { CliExit, UsageError } from '../errors.js'
import { optionSpecs } from '../internal/options.js'
import { EXIT_KEY_UNAVAILABLE } from './envelope-shared.js'

/** The default environment variable holding the user PIN. */
export const DEFAULT_PIN_ENV = 'SAFEGUARDS_HSM_PIN'
/** The environment variable naming the PKCS#11 library when `--module` is absent. */
export const MODULE_ENV = 'SAFEGUARDS_PKCS11_MODULE'

/** The options that select a token and a key in it. */
export const hsmOptions: Record<string, OptionSpec> = optionSpecs({
  strings: ['module', 'token-label', 'token-serial', 'key-name', 'pin-env', 'provider-id'],
})

/** Help text for {@link hsmOptions}. */
export const hsmHelp: string = [
  '  --key-name NAME          the KEK in the HSM token (its versions are NAME@v1, NAME@v2, ...)',
  '  --token-label LABEL      the token, by label (or --token-serial SERIAL)',
  `  --module PATH            the PKCS#11 library (default: $${MODULE_ENV})`,
  `  --pin-env NAME           environment variable holding the user PIN (default ${DEFAULT_PIN_ENV})`,
  '  --provider-id ID         provider id in key references (default pkcs11)',
].join('\n')

/** The one line printed when the optional HSM provider is not installed. */
export const PKCS11_MISSING: string =
  'the HSM token support is not installed: npm install @safeguards/pkcs11 (it builds the native pkcs11js)'

/**
 * Imports the optional `@safeguards/pkcs11`.
 *
 * @throws {CliExit} (exit 3, {@link PKCS11_MISSING}) when it (or `pkcs11js`) cannot be resolved.
 */
export async function loadPkcs11(): Promise<typeof Pkcs11Package> {
  try {
    return await import('@safeguards/pkcs11')
  } catch (e) {
    const message = e instanceof Error ? e.message : ''
    if (errorCode(e) === 'ERR_MODULE_NOT_FOUND' && /'(@safeguards\/pkcs11|pkcs11js)'/.test(message)) {
      throw new CliExit(EXIT_KEY_UNAVAILABLE, PKCS11_MISSING, { cause: e })
    }
    throw e
  }
}

/** True when the command line names a token key (any of the HSM options is present). */
export function wantsHsm(values: ParsedValues): boolean {
  return Object.keys(hsmOptions).some((name) => values[name] !== undefined)
}

/**
 * The provider options from the command line and environment.
 *
 * @throws {UsageError} when the module, the token, the key name or the PIN is missing.
 */
export function hsmProviderOptions(values: ParsedValues, io: CliIO): Pkcs11ProviderOptions {
  const module = optionalString(values, 'module') ?? io.env[MODULE_ENV]
  if (module === undefined || module === '') throw new UsageError(`--module (or $${MODULE_ENV}) is required`)
  const label = optionalString(values, 'token-label')
  const serial = optionalString(values, 'token-serial')
  if ((label === undefined) === (serial === undefined)) {
    throw new UsageError('give exactly one of --token-label or --token-serial')
  }
  const pinEnv = optionalString(values, 'pin-env') ?? DEFAULT_PIN_ENV
  const pin = io.env[pinEnv]
  if (pin === undefined || pin === '') throw new UsageError(`the user PIN is expected in $${pinEnv}`)
  const providerId = optionalString(values, 'provider-id')
  return {
    module,
    token: label !== undefined ? { label } : { serial: serial as string },
    pin: Secret.of(pin),
    keyName: requireString(values, 'key-name'),
    ...(providerId === undefined ? {} : { providerId }),
  }
}

/**
 * Opens the token named on the command line. The caller closes the provider.
 *
 * @throws {CliExit} (exit 3) when `@safeguards/pkcs11` is not installed (checked first), or when
 *   the library, the token or the PIN is unavailable.
 * @throws {UsageError} on missing or malformed options.
 */
export async function openHsm(values: ParsedValues, io: CliIO): Promise<Pkcs11KekProvider> {
  const { Pkcs11KekProvider } = await loadPkcs11()
  const options = hsmProviderOptions(values, io)
  try {
    return await Pkcs11KekProvider.open(options)
  } catch (e) {
    if (e instanceof TypeError) throw new UsageError(e.message)
    throw await mapTokenError(e)
  }
}

/**
 * Maps a token failure (library, token, PIN, session) to exit 3, naming only the error code.
 * Anything that is not a PKCS#11 error, and a key-policy refusal, is returned unchanged for the
 * caller's own mapping.
 */
export async function mapTokenError(error: unknown): Promise<unknown> {
  if (error instanceof CliExit || error instanceof UsageError) return error
  // Not installed: the error cannot be a PKCS#11 one.
  const pkcs11 = await loadPkcs11().catch(() => undefined)
  if (pkcs11 !== undefined && error instanceof pkcs11.Pkcs11Error && error.code !== 'ERR_PKCS11_KEY_POLICY') {
    return new CliExit(EXIT_KEY_UNAVAILABLE, `token unavailable: ${error.message} (${error.code})`, {
      cause: error,
    })
  }
  return error
}
