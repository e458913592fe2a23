/**
 * `safeguards password`: check a password against the NIST SP 800-63B rev 4 policy, hash one with
 * argon2id, and calibrate argon2id costs for this host. Passwords are read from stdin (one line),
 * never from arguments, so they stay out of shell history and process listings.
 *
 * @module
 */
import { calibrate, checkPasswordPolicy, createPasswordHasher, PasswordError } from '@safeguards/password'
import { type ParsedValues, parseCommandArgs, unknownSubcommand } from '../args.js'
import type { CliIO, Command } from '../command.js'
import { ExitCode, UsageError } from '../errors.js'
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
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of io.stdin) {
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : (chunk as Uint8Array)
    size += bytes.length
    if (size > MAX_STDIN) throw new UsageError('stdin is too large for a password')
    chunks.push(bytes)
  }
  const all = new Uint8Array(size)
  let o = 0
  for (const c of chunks) {
    all.set(c, o)
    o += c.length
  }
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(all)
  } catch {
    throw new UsageError('stdin is not valid UTF-8')
  }
  const line = text.split(/\r?\n/)[0] ?? ''
  if (line === '') throw new UsageError('expected the password on stdin')
  return line
}

function intOption(values: ParsedValues, name: string): number | undefined {
  const v = values[name]
  if (v === undefined) return undefined
  if (typeof v !== 'string' || !/^\d{1,9}$/.test(v))
    throw new UsageError(`--${name} expects a positive integer`)
  return Number(v)
}

/** The `safeguards password` command. */
export const passwordCommand: Command = {
  name: 'password',
  summary: 'check a password against the NIST 800-63B policy, hash it with argon2id, calibrate costs',
  usage: USAGE,
  async run({ argv, io }): Promise<number> {
    const [sub, ...rest] = argv
    if (sub === 'check') {
      const { values } = parseCommandArgs(rest, {
        mfa: { type: 'boolean' },
        context: { type: 'string', multiple: true },
        json: { type: 'boolean' },
      })
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
    if (sub === 'hash') {
      const { values } = parseCommandArgs(rest, {
        'memory-cost': { type: 'string' },
        'time-cost': { type: 'string' },
      })
      const memoryCost = intOption(values, 'memory-cost')
      const timeCost = intOption(values, 'time-cost')
      const password = await readPassword(io)
      try {
        const hasher = createPasswordHasher({
          ...(memoryCost === undefined ? {} : { memoryCost }),
          ...(timeCost === undefined ? {} : { timeCost }),
        })
        writeLine(io, await hasher.hash(password))
      } catch (e) {
        if (e instanceof PasswordError || e instanceof RangeError)
          throw new UsageError(e.message, { cause: e })
        throw e
      }
      return ExitCode.OK
    }
    if (sub === 'calibrate') {
      const { values } = parseCommandArgs(rest, {
        'target-ms': { type: 'string' },
        json: { type: 'boolean' },
      })
      const targetMs = intOption(values, 'target-ms') ?? 250
      if (targetMs < 1 || targetMs > 60_000) throw new UsageError('--target-ms expects 1 to 60000')
      const r = await calibrate({ targetMs })
      if (values.json === true) writeJson(io, r)
      else
        writeLine(
          io,
          `memoryCost=${r.memoryCost} timeCost=${r.timeCost} parallelism=${r.parallelism} (${r.ms.toFixed(0)} ms per hash)`,
        )
      return ExitCode.OK
    }
    if (sub === undefined || sub === '--help' || sub === 'help') {
      io.stdout.write(USAGE)
      return sub === undefined ? ExitCode.USAGE : ExitCode.OK
    }
    throw unknownSubcommand('password', sub, ['check', 'hash', 'calibrate'])
  },
}
