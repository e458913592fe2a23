/**
 * `safeguards password`: check a password against the NIST SP 800-63B rev 4 policy, hash one with
 * argon2id, and calibrate argon2id costs for this host. Passwords are read from stdin (one line),
 * never from arguments, so they stay out of shell history and process listings.
 *
 * @module
 */
import { calibrate, checkPasswordPolicy, createPasswordHasher, PasswordError } from '@safeguards/password'
import { type ParsedValues, parseCommandArgs } from '../args.js'
import type { CliIO, Command } from '../command.js'
import { ExitCode, UsageError } from '../errors.js'
import { FLAG, integerOption, REPEATED, STRING } from '../internal/options.js'
import { readAtMost } from '../internal/stdin.js'
import { commandOf } from '../internal/subcommands.js'
import { writeJson, writeLine } from '../output.js'

const USAGE = `Usage:
  safeguards password check [--mfa] [--context WORD]... [--json]   < password
  safeguards password hash [--memory-cost KiB] [--time-cost N]      < password
  safeguards password calibrate [--target-ms MS] [--json]

check      exit 0 when the password meets the policy, 1 with the problems otherwise
           (15 characters single-factor, 8 with --mfa; blocklist; context words)
hash       prints an argon2id PHC string (defaults m=19456 KiB, t=2, p=1)
calibrate  measures this host and prints argon2id costs that reach the time target (default 250 ms)

The password is the first line of stdin.

Exit codes: 0 ok; 1 the password does not meet the policy (check); 2 usage, or stdin is not a
password; other failures follow the table in safeguards --help.
`

const MAX_STDIN = 64 * 1024

async function readPassword(io: CliIO): Promise<string> {
  const stdin = await readAtMost(io.stdin, MAX_STDIN)
  if (!stdin.complete) throw new UsageError('stdin is too large for a password')
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(stdin.bytes)
  } catch {
    throw new UsageError('stdin is not valid UTF-8')
  }
  const line = text.split(/\r?\n/)[0] ?? ''
  if (line === '') throw new UsageError('expected the password on stdin')
  return line
}

/** A cost option: a decimal integer (the hasher checks the range). */
const costOption = (values: ParsedValues, name: string): number | undefined =>
  integerOption(values, name, { max: 999_999_999, expects: 'a positive integer' })

async function check(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, { mfa: FLAG, context: REPEATED, json: FLAG })
  const password = await readPassword(io)
  const result = checkPasswordPolicy(password, {
    mfa: values.mfa === true,
    context: (values.context as string[] | undefined) ?? [],
  })
  if (values.json === true) writeJson(io, result)
  else if (result.ok) writeLine(io, 'ok: the password meets the policy')
  else for (const p of result.problems) writeLine(io, `${p.code}: ${p.message}`)
  return result.ok ? ExitCode.OK : ExitCode.CHECK_FAILED
}

async function hash(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, { 'memory-cost': STRING, 'time-cost': STRING })
  const memoryCost = costOption(values, 'memory-cost')
  const timeCost = costOption(values, 'time-cost')
  const password = await readPassword(io)
  try {
    const hasher = createPasswordHasher({
      ...(memoryCost === undefined ? {} : { memoryCost }),
      ...(timeCost === undefined ? {} : { timeCost }),
    })
    writeLine(io, await hasher.hash(password))
  } catch (e) {
    if (e instanceof PasswordError || e instanceof RangeError) throw new UsageError(e.message, { cause: e })
    throw e
  }
  return ExitCode.OK
}

async function calibrateCosts(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, { 'target-ms': STRING, json: FLAG })
  const targetMs = integerOption(values, 'target-ms', { min: 1, max: 60_000, expects: '1 to 60000' }) ?? 250
  const r = await calibrate({ targetMs })
  if (values.json === true) writeJson(io, r)
  else
    writeLine(
      io,
      `memoryCost=${r.memoryCost} timeCost=${r.timeCost} parallelism=${r.parallelism} (${r.ms.toFixed(0)} ms per hash)`,
    )
  return ExitCode.OK
}

/** The `safeguards password` command. */
export const passwordCommand: Command = commandOf({
  name: 'password',
  summary: 'check a password against the NIST 800-63B policy, hash it with argon2id, calibrate costs',
  usage: USAGE,
  subcommands: { check, hash, calibrate: calibrateCosts },
})
