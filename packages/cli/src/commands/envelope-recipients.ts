/**
 * Sealing to recipients on the command line: `--recipient PUBKEY` (repeatable) for `encrypt` and
 * `rewrap`, `--identity KEYFILE` (repeatable) for `decrypt` and `rewrap`, and the `identity`
 * command that makes and shows X25519 recipient keys (`identity new`, `identity public`).
 *
 * A PUBKEY is a file holding a public key, or the key itself: PEM (`-----BEGIN PUBLIC KEY-----`,
 * as `openssl pkey -pubout` writes it) or JWK JSON (`{"kty":"OKP","crv":"X25519","x":…}`). A
 * KEYFILE holds a private key, PEM (`PRIVATE KEY`, PKCS#8) or JWK with `d`, and must not be
 * readable by group or others (as for the keyring).
 *
 * @module
 */
import { lstat, readFile, writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { IoError, Secret } from '@safeguards/core'
import { errorCode } from '@safeguards/core/node'
import {
  createRecipientsProvider,
  type KekProvider,
  RecipientIdentity,
  RecipientKeyError,
  RecipientPublicKey,
} from '@safeguards/envelope'
import { optionalString, type ParsedValues, parseCommandArgs, requireString } from '../args.js'
import type { CliIO, Command } from '../command.js'
import { ExitCode, UsageError } from '../errors.js'
import { optionSpecs } from '../internal/options.js'
import { commandOf } from '../internal/subcommands.js'
import { safeText } from '../output.js'

/** Options of the commands that seal to or open for recipients. */
export const recipientOptions: ReturnType<typeof optionSpecs> = optionSpecs({
  repeated: ['recipient', 'identity'],
})

/** Help lines for `--recipient` (encrypt, rewrap). */
export const recipientHelp: string = [
  '  --recipient PUBKEY       seal to this X25519 public key with HPKE (repeatable, up to 16): a file',
  '                           or the key itself, PEM (BEGIN PUBLIC KEY) or JWK; any one recipient opens',
].join('\n')

/** Help lines for `--identity` (decrypt, rewrap). */
export const identityHelp: string = [
  '  --identity KEYFILE       open with this X25519 private key (PEM PRIVATE KEY or JWK; mode 0600;',
  '                           repeatable)',
].join('\n')

const list = (values: ParsedValues, name: string): string[] => {
  const v = values[name]
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : []
}

/**
 * Refuses `--recipient` on `decrypt` and `--identity` on `encrypt`, which would do nothing.
 *
 * @throws {UsageError} naming the option that belongs elsewhere.
 */
export function checkRecipientOptions(mode: 'encrypt' | 'decrypt' | 'rewrap', values: ParsedValues): void {
  if (mode === 'decrypt' && list(values, 'recipient').length > 0)
    throw new UsageError('decrypt opens with --identity KEYFILE; --recipient is for encrypt and rewrap')
  if (mode === 'encrypt' && list(values, 'identity').length > 0)
    throw new UsageError('encrypt seals with --recipient PUBKEY; --identity is for decrypt and rewrap')
}

/** True when the command line names recipients or identities. */
export function wantsRecipients(values: ParsedValues): boolean {
  return list(values, 'recipient').length > 0 || list(values, 'identity').length > 0
}

async function readText(io: CliIO, path: string, what: string): Promise<string> {
  try {
    return await readFile(resolve(io.cwd, path), 'utf8')
  } catch (e) {
    throw new IoError(`read the ${what}`, resolve(io.cwd, path), { cause: e })
  }
}

/** A recipient's public key from `--recipient`: inline PEM or JWK, else a file. */
async function recipientOf(io: CliIO, value: string): Promise<RecipientPublicKey> {
  const inline = value.trimStart().startsWith('-----BEGIN') || value.trimStart().startsWith('{')
  const text = inline ? value : await readText(io, value, 'recipient key')
  try {
    return await RecipientPublicKey.import(text)
  } catch (e) {
    if (e instanceof RecipientKeyError)
      throw new UsageError(`--recipient ${inline ? '(inline)' : safeText(value)}: ${e.message}`)
    throw e
  }
}

/** An identity from `--identity KEYFILE`, refusing a file readable by group or others. */
async function identityOf(io: CliIO, path: string): Promise<RecipientIdentity> {
  const full = resolve(io.cwd, path)
  const st = await lstat(full).catch((e: unknown) => {
    throw new IoError('read the identity', full, { cause: e })
  })
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    throw new UsageError(`--identity ${safeText(full)} is readable by group or others; chmod 600 it`)
  }
  const text = Secret.of(await readText(io, path, 'identity'))
  try {
    return await RecipientIdentity.import(text)
  } catch (e) {
    if (e instanceof RecipientKeyError) throw new UsageError(`--identity ${safeText(full)}: ${e.message}`)
    throw e
  }
}

/** The recipients provider named on the command line, or undefined when none is. */
export async function openRecipients(values: ParsedValues, io: CliIO): Promise<KekProvider | undefined> {
  const recipientValues = list(values, 'recipient')
  const identityValues = list(values, 'identity')
  if (recipientValues.length === 0 && identityValues.length === 0) return undefined
  const recipients = await Promise.all(recipientValues.map((v) => recipientOf(io, v)))
  const identities = await Promise.all(identityValues.map((v) => identityOf(io, v)))
  try {
    return createRecipientsProvider({ recipients, identities })
  } catch (e) {
    if (e instanceof RangeError || (e instanceof Error && /same key twice/.test(e.message))) {
      throw new UsageError(`--recipient: ${e.message}`)
    }
    throw e
  }
}

const usage = [
  'Usage: safeguards identity new --out KEYFILE [--public-out FILE] [--format pem|jwk]',
  '       safeguards identity public --identity KEYFILE [--format pem|jwk]',
  '',
  '  new       create an X25519 identity (private key, mode 0600) for `decrypt --identity`, and print',
  '            its public key (or write it to --public-out) for `encrypt --recipient`',
  '  public    print the public key of an identity, and its recipient id on stderr',
  '',
  '  --format pem|jwk         key format (default pem: PKCS#8 and SPKI, as OpenSSL writes them)',
  '',
  'The recipient id (the first 16 bytes of SHA-256 over the raw public key, in hex) is what',
  'envelope headers name; compare it out of band before sealing to a key.',
  '',
  'Exit codes: 0 ok; 2 usage, an existing --out, a malformed key; 74 a file cannot be read or written.',
].join('\n')

function formatOf(values: ParsedValues): 'pem' | 'jwk' {
  const f = optionalString(values, 'format') ?? 'pem'
  if (f !== 'pem' && f !== 'jwk') throw new UsageError('--format expects pem or jwk')
  return f
}

const publicText = (key: RecipientPublicKey, format: 'pem' | 'jwk'): string =>
  format === 'pem' ? key.toPem() : `${JSON.stringify(key.toJwk())}\n`

async function writeNew(path: string, text: string, mode: number): Promise<void> {
  try {
    await writeFile(path, text, { mode, flag: 'wx' })
  } catch (e) {
    if (errorCode(e) === 'EEXIST')
      throw new UsageError(`${safeText(path)} already exists; refusing to overwrite it`)
    throw new IoError('write', path, { cause: e })
  }
}

/** `safeguards identity`. */
export const identityCommand: Command = commandOf({
  name: 'identity',
  summary: 'create X25519 recipient keys for sealing envelopes (encrypt --recipient, decrypt --identity)',
  usage,
  subcommands: {
    async new(argv, io) {
      const { values } = parseCommandArgs(argv, optionSpecs({ strings: ['out', 'public-out', 'format'] }))
      const format = formatOf(values)
      const out = resolve(io.cwd, requireString(values, 'out'))
      const identity = await RecipientIdentity.generate()
      const secret =
        format === 'pem'
          ? identity.exportPem().reveal()
          : `${JSON.stringify(identity.exportJwk().reveal())}\n`
      await writeNew(out, secret, 0o600)
      const pub = optionalString(values, 'public-out')
      if (pub === undefined) io.stdout.write(publicText(identity.publicKey, format))
      else await writeNew(resolve(io.cwd, pub), publicText(identity.publicKey, format), 0o644)
      io.stderr.write(`recipient id ${identity.id}\n`)
      identity.destroy()
      return ExitCode.OK
    },
    async public(argv, io) {
      const { values } = parseCommandArgs(argv, {
        ...recipientOptions,
        ...optionSpecs({ strings: ['format'] }),
      })
      const format = formatOf(values)
      const [path, ...more] = list(values, 'identity')
      if (path === undefined || more.length > 0) throw new UsageError('give one --identity KEYFILE')
      const identity = await identityOf(io, path)
      io.stdout.write(publicText(identity.publicKey, format))
      io.stderr.write(`recipient id ${identity.id}\n`)
      identity.destroy()
      return ExitCode.OK
    },
  },
})
