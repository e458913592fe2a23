/**
 * `safeguards session`: operator tools for `@safeguards/session`.
 *
 * - `session policy [--file FILE] [--json]` validates a session policy (the options of
 *   `createSessionManager`: timeouts, role overrides, session cap) and prints the effective
 *   timeouts: the documentation ASVS 5.0 V7.1 asks for, and what an auditor checks against
 *   HIPAA 164.312(a)(2)(iii).
 * - `session id [--json]` reads a session token on stdin (never from the command line, which other
 *   users can see in the process list) and prints its session id (SHA-256), the key the stores
 *   and the audit events use, for example to find and revoke a leaked session.
 *
 * @module
 */
import { isSafeguardsError } from '@safeguards/core'
import { parsePolicy, type SessionPolicy, type SessionPolicyOptions, sessionIdOf } from '@safeguards/session'
import { optionalString, parseCommandArgs } from '../args.js'
import type { CliIO, Command } from '../command.js'
import { CliExit, ExitCode, UsageError } from '../errors.js'
import { readJsonOption } from '../internal/files.js'
import { FLAG, STRING } from '../internal/options.js'
import { readAtMost } from '../internal/stdin.js'
import { commandOf } from '../internal/subcommands.js'
import { safeText, writeJson, writeLine } from '../output.js'

const USAGE = `Usage:
  safeguards session policy [--file FILE] [--json]
      Validates a session policy (JSON: idleTimeoutMs, absoluteTimeoutMs, roles,
      maxSessionsPerUser, onSessionLimit) and prints the effective timeouts.
      Without --file, prints the defaults (15 min idle, 12 h absolute).
  safeguards session id [--json] < token
      Reads a session token on stdin and prints its session id (SHA-256, hex).

Exit codes: 0 ok, 1 not a well-formed token, 2 usage error or invalid policy,
74 --file cannot be read (names the path).`

const MAX_TOKEN_BYTES = 4096

function human(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`
  if (ms % 60_000 === 0) return `${ms / 60_000} min`
  if (ms % 1000 === 0) return `${ms / 1000} s`
  return `${ms} ms`
}

function describe(policy: SessionPolicy): string[] {
  const lines = [
    `default: idle ${human(policy.defaults.idleTimeoutMs)}, absolute ${human(policy.defaults.absoluteTimeoutMs)}`,
  ]
  for (const [role, t] of Object.entries(policy.roles).sort(([a], [b]) => (a < b ? -1 : 1)))
    lines.push(
      `role ${safeText(role)}: idle ${human(t.idleTimeoutMs)}, absolute ${human(t.absoluteTimeoutMs)}`,
    )
  lines.push(`sessions per user: at most ${policy.maxSessionsPerUser}, then ${policy.onSessionLimit}`)
  return lines
}

async function policy(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, { file: STRING, json: FLAG })
  const file = optionalString(values, 'file')
  const options = file === undefined ? {} : ((await readJsonOption(io, file, 'file')) as SessionPolicyOptions)
  let policy: SessionPolicy
  try {
    policy = parsePolicy(options)
  } catch (e) {
    if (isSafeguardsError(e, 'ERR_SESSION_CONFIG')) throw new UsageError(e.message)
    throw e
  }
  if (values.json === true) writeJson(io, policy)
  else for (const line of describe(policy)) writeLine(io, line)
  return ExitCode.OK
}

async function id(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, { json: FLAG })
  const stdin = await readAtMost(io.stdin, MAX_TOKEN_BYTES)
  if (!stdin.complete) throw new UsageError('stdin is longer than a session token')
  const id = sessionIdOf(new TextDecoder().decode(stdin.bytes).trim())
  if (id === null) throw new CliExit(ExitCode.CHECK_FAILED, 'stdin is not a well-formed session token')
  if (values.json === true) writeJson(io, { sessionId: id })
  else writeLine(io, id)
  return ExitCode.OK
}

/** The `session` command. */
export const sessionCommand: Command = commandOf({
  name: 'session',
  summary: 'session policy check and token-to-session-id lookup (automatic logoff)',
  usage: USAGE,
  subcommands: { policy, id },
})
