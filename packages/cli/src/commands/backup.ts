/**
 * `safeguards backup create|verify|keygen`: BagIt backups with a signed attestation, verified in a
 * fixed fail-closed order, with alerts.
 *
 * Exit codes of `verify`: 0 ok; 1 integrity (missing, extra or changed files, unsafe paths);
 * 2 usage (including a BAG path that does not exist); 3 authenticity (bad or replayed attestation,
 * or none although --public-key or --require-signature was given); 4 stale;
 * 5 not decryptable or restore test failed; 6 unreadable files. A failed alert never turns a
 * failure into 0.
 *
 * @module
 */
import { readFile, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import {
  type AlertSink,
  alertFromReport,
  BackupExitCode,
  commandRestoreTest,
  createBag,
  generateSigningKeyPair,
  importSigningKey,
  importVerificationKeys,
  loadVerifyState,
  type PayloadCipher,
  prometheusTextfileSink,
  type RestoreTest,
  saveVerifyState,
  sendAlerts,
  stderrSink,
  type VerifyOptions,
  type VerifyReport,
  verifyBag,
  webhookSink,
} from '@safeguards/backup'
import { IoError, isSafeguardsError, parseJson, utf8Encode } from '@safeguards/core'
import { errorCode, writeFileAtomic } from '@safeguards/core/node'
import { createEnvelope } from '@safeguards/envelope'
import { optionalString, type ParsedValues, parseCommandArgs, parseDuration } from '../args.js'
import type { CliIO, Command } from '../command.js'
import { CliExit, UsageError } from '../errors.js'
import { FLAG, integerOption, optionSpecs, STRING } from '../internal/options.js'
import { commandOf } from '../internal/subcommands.js'
import { createProgress, type Progress, writeJson, writeLine } from '../output.js'
import { keyringHelp, keyringOptions, openKeyring } from './envelope-shared.js'

const USAGE: string = `Usage:
  safeguards backup create SRC BAG [--sign-key JWK] [--previous BAG] [--backup-set ID]
                                   [--keyring PATH] [--move] [--json]
  safeguards backup verify BAG [--public-key JWK] [--require-signature] [--keyring PATH]
                               [--max-age DURATION] [--budget DURATION] [--budget-bytes N]
                               [--state FILE] [--restore-test CMD] [--digest ALG]... [--json]
                               [--alert-webhook URL] [--prometheus FILE] [--concurrency N]
  safeguards backup keygen PRIVATE_JWK PUBLIC_JWK [--alg EdDSA|ES256] [--kid KID]

create   bags SRC into a new BagIt 1.0 bag BAG (SHA-512 + SHA-256 manifests, tag manifests,
         bag-info.txt) and signs attestation.jws with --sign-key (a private Ed25519 or P-256 JWK
         with "kid"). --previous chains to the previous bag (seq + 1, prev = its attestation hash).
verify   checks BAG in order: paths, signature, completeness, integrity, decryptability,
         freshness (--max-age, the RPO), restore test (--restore-test, run by /bin/sh with
         SAFEGUARDS_BAG and SAFEGUARDS_DATA set). --public-key is a JWK or JWK Set; giving it
         requires a valid signature by one of its keys, as --require-signature does (a bag
         without attestation.jws is then exit 3). --state keeps the last accepted attestation
         per backup set (replay/rollback detection) and per-file coverage for
         --budget/--budget-bytes (sampled verification, least recently verified first).
         --digest checks only that manifest's digests (repeatable; default: every manifest;
         such a run reports status "partial"). Alerts carry codes and counts only:
         --alert-webhook POSTs JSON signed with HMAC-SHA256 using the secret in
         SAFEGUARDS_ALERT_SECRET (>= 32 bytes); --prometheus writes a node_exporter textfile
         atomically on every run; failures also go to stderr.
keygen   writes a new signing key pair (private JWK mode 0600, public JWK).

Encryption (create and verify): with --keyring, create encrypts every payload file with
@safeguards/envelope (AES-256-GCM, bound to the bag id and the file's path; manifests hash the
ciphertext, so verify without --keyring still checks integrity), and verify also proves that every
file decrypts (exit 5 if not, or if the keyring cannot be opened).
${keyringHelp}

Exit codes (verify): 0 ok, 1 integrity, 2 usage (also: BAG does not exist), 3 authenticity,
                     4 stale, 5 not decryptable / restore test failed, 6 unreadable files.
`

async function readJwk(io: CliIO, path: string, flag: string): Promise<Record<string, unknown>> {
  let text: string
  try {
    text = await readFile(resolve(io.cwd, path), 'utf8')
  } catch {
    throw new UsageError(`--${flag}: file cannot be read`)
  }
  try {
    return parseJson(text) as Record<string, unknown>
  } catch {
    throw new UsageError(`--${flag}: not valid JSON`)
  }
}

function keyError(flag: string, error: unknown): never {
  if (isSafeguardsError(error)) throw new UsageError(`--${flag}: ${error.message}`)
  throw error
}

/**
 * The payload cipher from `--keyring` (and `--master-env`/`--passphrase-env`): an
 * `@safeguards/envelope` envelope over the local keyring, or undefined without `--keyring`.
 * A keyring that cannot be opened ends the command with `failCode`.
 */
async function cipherOf(
  values: ParsedValues,
  io: CliIO,
  failCode: number,
): Promise<PayloadCipher | undefined> {
  if (values.keyring === undefined) {
    if (values['master-env'] !== undefined || values['passphrase-env'] !== undefined)
      throw new UsageError('--master-env and --passphrase-env need --keyring')
    return undefined
  }
  try {
    return createEnvelope({ provider: await openKeyring(values, io) })
  } catch (error) {
    if (error instanceof UsageError) throw error
    if (isSafeguardsError(error)) throw new CliExit(failCode, `key ring unavailable (${error.code})`)
    throw error
  }
}

const CREATE_OPTIONS = { 'sign-key': STRING, previous: STRING, 'backup-set': STRING, move: FLAG, json: FLAG }

async function create(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { ...CREATE_OPTIONS, ...keyringOptions }, [2, 2])
  const cipher = await cipherOf(values, io, 1)
  const [src, bag] = positionals as [string, string]
  const signPath = optionalString(values, 'sign-key')
  const signingKey =
    signPath === undefined
      ? undefined
      : await importSigningKey(await readJwk(io, signPath, 'sign-key')).catch((e) => keyError('sign-key', e))
  const previousBag = optionalString(values, 'previous')
  let previousAttestation: string | undefined
  if (previousBag !== undefined) {
    try {
      previousAttestation = (
        await readFile(join(resolve(io.cwd, previousBag), 'attestation.jws'), 'utf8')
      ).trim()
    } catch {
      throw new UsageError('--previous: that bag has no attestation.jws')
    }
  }
  const backupSetId = optionalString(values, 'backup-set')
  const progress = createProgress(io, { label: 'MiB hashed' })
  let carry = 0
  try {
    const result = await createBag(resolve(io.cwd, src), resolve(io.cwd, bag), {
      ...(signingKey === undefined ? {} : { signingKey }),
      ...(previousAttestation === undefined ? {} : { previousAttestation }),
      ...(backupSetId === undefined ? {} : { backupSetId }),
      ...(cipher === undefined ? {} : { cipher }),
      move: values.move === true,
      onBytes: (n) => {
        carry += n
        const mib = Math.floor(carry / 1048576)
        if (mib > 0) {
          progress.tick(mib)
          carry -= mib * 1048576
        }
      },
    })
    progress.done()
    if (values.json === true) writeJson(io, { ...result, attestation: result.attestation !== null })
    else
      writeLine(
        io,
        `created ${result.bagDir}: ${result.files} files, ${result.bytes} bytes, set ${result.backupSetId} seq ${result.seq}${
          result.attestation ? ' (signed)' : ' (unsigned)'
        }`,
      )
    return 0
  } catch (error) {
    progress.done()
    if (isSafeguardsError(error)) throw new CliExit(1, `${error.message} (${error.code})`)
    throw error
  }
}

/** verify's options: what to check, how much of it (sampling, speed), and where to report. */
const VERIFY_OPTIONS = {
  ...keyringOptions,
  ...optionSpecs({
    strings: ['public-key', 'max-age', 'state', 'restore-test'],
    flags: ['require-signature'],
  }),
  ...optionSpecs({ strings: ['budget', 'budget-bytes', 'concurrency'], repeated: ['digest'] }),
  ...optionSpecs({ strings: ['alert-webhook', 'prometheus'], flags: ['json'] }),
}

/** What to check and how (`VerifyOptions`), from the command line; the alert sinks are apart. */
async function verifyOptions(values: ParsedValues, io: CliIO): Promise<VerifyOptions> {
  const options: VerifyOptions = { requireSignature: values['require-signature'] === true }
  const cipher = await cipherOf(values, io, BackupExitCode.NOT_DECRYPTABLE)
  if (cipher !== undefined) options.cipher = cipher
  const pub = optionalString(values, 'public-key')
  if (pub !== undefined)
    options.publicKeys = await importVerificationKeys(await readJwk(io, pub, 'public-key')).catch((e) =>
      keyError('public-key', e),
    )
  const maxAge = optionalString(values, 'max-age')
  if (maxAge !== undefined) options.maxAgeMs = parseDuration(maxAge, 'max-age')
  const budget = optionalString(values, 'budget')
  const maxBytes = integerOption(values, 'budget-bytes', { expects: 'a number of bytes' })
  if (budget !== undefined || maxBytes !== undefined)
    options.budget = {
      ...(budget === undefined ? {} : { maxMs: parseDuration(budget, 'budget') }),
      ...(maxBytes === undefined ? {} : { maxBytes }),
    }
  const concurrency = integerOption(values, 'concurrency', {
    min: 1,
    max: 999,
    expects: 'a positive integer',
  })
  if (concurrency !== undefined) options.concurrency = concurrency
  const digests = values.digest as string[] | undefined
  if (digests !== undefined) {
    for (const d of digests)
      if (!/^(sha512|sha384|sha256|sha224|sha1|md5)$/.test(d))
        throw new UsageError('--digest expects sha512, sha384, sha256, sha224, sha1 or md5')
    options.manifestAlgorithms = digests
  }
  const restore = optionalString(values, 'restore-test')
  if (restore !== undefined) {
    const test: RestoreTest = commandRestoreTest('restore-test', ['/bin/sh', '-c', restore])
    options.restoreTests = [test]
  }
  return options
}

/** Where alerts go: stderr always, the webhook and the Prometheus textfile when given. */
function alertSinks(values: ParsedValues, io: CliIO): AlertSink[] {
  const sinks: AlertSink[] = [stderrSink((line) => io.stderr.write(`safeguards backup: ${line}`))]
  const webhook = optionalString(values, 'alert-webhook')
  if (webhook !== undefined) {
    const secret = io.env.SAFEGUARDS_ALERT_SECRET
    if (!secret || utf8Encode(secret).length < 32)
      throw new UsageError(
        '--alert-webhook needs SAFEGUARDS_ALERT_SECRET (at least 32 bytes) in the environment',
      )
    try {
      sinks.push(webhookSink(webhook, { secret: utf8Encode(secret) }))
    } catch {
      throw new UsageError('--alert-webhook expects an http(s) URL')
    }
  }
  const prom = optionalString(values, 'prometheus')
  if (prom !== undefined) sinks.push(prometheusTextfileSink(resolve(io.cwd, prom)))
  return sinks
}

/** The `--state` file's content, when given. */
async function loadState(path: string | undefined): Promise<VerifyOptions['state']> {
  if (path === undefined) return undefined
  try {
    return await loadVerifyState(path)
  } catch (error) {
    if (isSafeguardsError(error)) throw new UsageError(`--state: ${error.message}`)
    throw error
  }
}

/** Shows verifyBag's progress on stderr (see {@link createProgress}); returns the display. */
function showProgress(io: CliIO, options: VerifyOptions): Progress {
  // Redraw on every batch (at most one per 128 files): even a small bag shows its bar on a terminal.
  const progress = createProgress(io, { label: 'files', intervalMs: 0 })
  let done = 0
  options.onProgress = (p) => {
    progress.setTotal(p.filesTotal)
    if (p.filesDone > done) {
      progress.tick(p.filesDone - done)
      done = p.filesDone
    }
  }
  return progress
}

/** The human report: one line per finding, then the summary. */
function printReport(io: CliIO, report: VerifyReport): void {
  for (const f of report.findings)
    writeLine(
      io,
      `${f.severity === 'error' ? 'error' : 'warning'} ${f.code}${f.path === undefined ? '' : ` ${JSON.stringify(f.path)}`}${f.detail === undefined ? '' : ` (${f.detail})`}`,
    )
  const c = report.coverage
  writeLine(
    io,
    `${report.status}: ${c.filesVerified}/${c.filesTotal} files, ${c.bytesVerified} bytes hashed, ${signatureSummary(report)}`,
  )
}

async function verify(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, VERIFY_OPTIONS, [1, 1])
  const bag = resolve(io.cwd, positionals[0] as string)
  await stat(bag).catch((error: unknown) => {
    // Nothing there is a mistyped or wrong argument (exit 2), not a bag that failed its checks.
    const code = errorCode(error)
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new UsageError(`BAG: ${JSON.stringify(positionals[0])} does not exist`)
  })
  const options = await verifyOptions(values, io)
  const sinks = alertSinks(values, io)
  const statePath = optionalString(values, 'state')
  const state = await loadState(statePath === undefined ? undefined : resolve(io.cwd, statePath))
  if (state !== undefined) options.state = state

  const progress = showProgress(io, options)
  const result = await verifyBag(bag, options)
  progress.done()
  if (statePath !== undefined) await saveVerifyState(resolve(io.cwd, statePath), result.state)
  const { report } = result
  if (values.json === true) writeJson(io, report)
  else printReport(io, report)
  const outcome = await sendAlerts(alertFromReport(report), sinks)
  for (const f of outcome.failed)
    io.stderr.write(`safeguards backup: alert sink ${f.sink} failed: ${f.message} (${f.code})\n`)
  // A failed alert never masks a failed verification: the exit code is the verification's.
  return report.exitCode === BackupExitCode.OK ? 0 : report.exitCode
}

/** What the summary line says about the signature. */
function signatureSummary(report: VerifyReport): string {
  const a = report.attestation
  if (a === null) return 'not signed'
  if (a.verified) return `signed by ${a.kid} (seq ${a.seq})`
  if (report.findings.some((f) => f.code === 'W_SIGNATURE_UNVERIFIED'))
    return 'signature not checked: no key given'
  return 'signature not verified'
}

async function keygen(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { alg: STRING, kid: STRING }, [2, 2])
  const alg = optionalString(values, 'alg') ?? 'EdDSA'
  if (alg !== 'EdDSA' && alg !== 'ES256') throw new UsageError('--alg must be EdDSA or ES256')
  const kid = optionalString(values, 'kid') ?? `backup-${new Date().toISOString().slice(0, 10)}`
  let pair: Awaited<ReturnType<typeof generateSigningKeyPair>>
  try {
    pair = await generateSigningKeyPair(alg, kid)
  } catch (e) {
    keyError('kid', e)
  }
  const [privatePath, publicPath] = positionals as [string, string]
  // Durable, and created whole or not at all: a crash never leaves half a key file behind.
  const writeNew = (path: string, jwk: object, mode: number): Promise<void> =>
    writeFileAtomic(resolve(io.cwd, path), utf8Encode(`${JSON.stringify(jwk)}\n`), { mode, exclusive: true })
  try {
    await writeNew(privatePath, pair.privateJwk, 0o600)
    await writeNew(publicPath, pair.publicJwk, 0o644)
  } catch (error) {
    if (error instanceof IoError && error.syscallCode === 'EEXIST')
      throw new UsageError('refusing to overwrite an existing key file', { cause: error })
    throw error
  }
  writeLine(io, `wrote ${alg} key pair "${kid}"`)
  return 0
}

/** `safeguards backup`. */
export const backupCommand: Command = commandOf({
  name: 'backup',
  summary: 'create and verify signed BagIt backups; alert on failure',
  usage: USAGE,
  subcommands: { create, verify, keygen },
})
