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
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { IoError, isSafeguardsError, parseJson } from '@safeguards/core'
import { parsePolicy, type SessionPolicy, type SessionPolicyOptions, sessionIdOf } from '@safeguards/session'
import { optionalString, parseCommandArgs, unknownSubcommand } from '../args.js'
import type { Command, CommandContext } from '../command.js'
import { CliExit, ExitCode, UsageError } from '../errors.js'
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

const MAX_POLICY_BYTES = 1 << 20

function human(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`
  if (ms % 60_000 === 0) return `${ms / 60_000} min`
  if (ms % 1000 === 0) return `${ms / 1000} s`
  return `${ms} ms`
}

async function readPolicy(file: string, cwd: string): Promise<SessionPolicyOptions> {
  const path = resolve(cwd, file)
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (e) {
    throw new IoError('read the --file', path, { cause: e })
  }
  if (bytes.length > MAX_POLICY_BYTES) throw new UsageError('--file is larger than 1 MiB')
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch (e) {
    throw new UsageError('--file is not UTF-8 text', { cause: e, category: 'invalid-input' })
  }
  try {
    return parseJson(text) as SessionPolicyOptions
  } catch (e) {
    throw new UsageError(`--file is not valid JSON (${isSafeguardsError(e) ? e.message : 'parse error'})`, {
      cause: e,
      category: 'invalid-input',
    })
  }
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

async function readStdin(ctx: CommandContext): Promise<string> {
  const chunks: Uint8Array[] = []
  let total = 0
  for await (const chunk of ctx.io.stdin) {
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : (chunk as Uint8Array)
    total += bytes.length
    if (total > 4096) throw new UsageError('stdin is longer than a session token')
    chunks.push(bytes)
  }
  const all = new Uint8Array(total)
  let at = 0
  for (const c of chunks) {
    all.set(c, at)
    at += c.length
  }
  return new TextDecoder().decode(all).trim()
}

/** The `session` command. */
export const sessionCommand: Command = {
  name: 'session',
  summary: 'session policy check and token-to-session-id lookup (automatic logoff)',
  usage: USAGE,
  async run(ctx: CommandContext): Promise<number> {
    const [sub, ...rest] = ctx.argv
    if (sub === 'policy') {
      const { values } = parseCommandArgs(rest, { file: { type: 'string' }, json: { type: 'boolean' } })
      const file = optionalString(values, 'file')
      const options = file === undefined ? {} : await readPolicy(file, ctx.io.cwd)
      let policy: SessionPolicy
      try {
        policy = parsePolicy(options)
      } catch (e) {
        if (isSafeguardsError(e, 'ERR_SESSION_CONFIG')) throw new UsageError(e.message)
        throw e
      }
      if (values.json === true) writeJson(ctx.io, policy)
      else for (const line of describe(policy)) writeLine(ctx.io, line)
      return ExitCode.OK
    }
    if (sub === 'id') {
      const { values } = parseCommandArgs(rest, { json: { type: 'boolean' } })
      const id = sessionIdOf(await readStdin(ctx))
      if (id === null) throw new CliExit(ExitCode.CHECK_FAILED, 'stdin is not a well-formed session token')
      if (values.json === true) writeJson(ctx.io, { sessionId: id })
      else writeLine(ctx.io, id)
      return ExitCode.OK
    }
    throw unknownSubcommand('session', sub, ['policy', 'id'])
  },
}
