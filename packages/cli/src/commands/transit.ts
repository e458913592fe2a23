/**
 * `safeguards transit`: transmission security checks (`@safeguards/transport`).
 *
 * - `transit check HOST:PORT [--servername N] [--ca FILE] [--timeout MS] [--no-http] [--json]`
 *   connects to HOST:PORT as a TLS client (only to that address) and reports the protocol versions
 *   it accepts, the suites, forward secrecy, the certificate, the OCSP staple and HSTS, with a
 *   verdict and reason codes: what an auditor checks against HIPAA 164.312(e)(1) and (e)(2).
 *
 * @module
 */
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { IoError, isSafeguardsError } from '@safeguards/core'
import { checkTls, fixFor, parseTarget, TLS_VERSIONS, type TlsCheckResult } from '@safeguards/transport'
import { optionalString, parseCommandArgs } from '../args.js'
import type { CliIO, Command } from '../command.js'
import { CliExit, ExitCode, UsageError } from '../errors.js'
import { FLAG, STRING } from '../internal/options.js'
import { commandOf } from '../internal/subcommands.js'
import { safeText, writeJson, writeLine } from '../output.js'

const USAGE = `Usage:
  safeguards transit check HOST:PORT [--servername NAME] [--ca FILE] [--timeout MS] [--no-http] [--json]
      Connects to HOST:PORT (an IPv6 address in brackets: [::1]:443) as a TLS client, only to
      that address, and reports: each protocol version from TLS 1.0 to 1.3 accepted or not, the
      suites accepted at each, forward secrecy, the certificate chain (trust, host name, key,
      signature algorithm, days to expiry), the OCSP staple, and HSTS from one HEAD request
      (--no-http for a service that is not HTTPS). Verdict pass, warn or fail, with reason codes.
      --servername  the name to send (SNI) and check the certificate against (default: HOST)
      --ca          trust only the CA certificates in this PEM file (default: Node's root store)
      --timeout     hard limit per handshake in milliseconds (default 3000)

Exit codes: 0 pass, 0 warn (with the warnings printed), 1 fail, 2 usage error or host
unreachable, 74 --ca cannot be read.`

const MAX_CA_BYTES = 1 << 20

async function readCa(io: CliIO, file: string): Promise<string> {
  const path = resolve(io.cwd, file)
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (e) {
    throw new IoError('read the --ca', path, { cause: e })
  }
  if (bytes.length > MAX_CA_BYTES) throw new UsageError('--ca is larger than 1 MiB')
  const text = new TextDecoder().decode(bytes)
  if (!text.includes('-----BEGIN CERTIFICATE-----'))
    throw new UsageError('--ca is not a PEM certificate file', { category: 'invalid-input' })
  return text
}

function describe(r: TlsCheckResult): string[] {
  const t = r.target
  const lines = [
    `target ${safeText(t.host)} port ${t.port} (address ${t.address}${t.servername === null ? '' : `, servername ${safeText(t.servername)}`})`,
    `protocols: ${TLS_VERSIONS.map((v) => `${v} ${r.protocols[v]}`).join(', ')}`,
  ]
  for (const v of TLS_VERSIONS) {
    const list = r.suites[v]
    if (list !== undefined) lines.push(`${v} suites: ${list.map((s) => s.name).join(', ') || 'none'}`)
  }
  if (r.forwardSecrecy !== null) lines.push(`forward secrecy: ${r.forwardSecrecy ? 'yes' : 'no'}`)
  const c = r.certificate
  if (c !== null) {
    const subject = safeText(c.chain[0]?.subject ?? '?')
    const key = `${c.key.type} ${c.key.curve ?? c.key.bits ?? '?'}`
    lines.push(
      `certificate: ${subject}; ${c.trusted ? 'trusted' : `not trusted (${safeText(c.trustError ?? '?')})`} by the ${c.trustStore} store; ` +
        `${c.hostnameMatch ? 'names' : 'does not name'} ${safeText(c.name)}; ${key}; ${c.signatureAlgorithm ?? '?'}; ` +
        `valid until ${c.validTo} (${c.daysToExpiry} days)`,
    )
  }
  if (r.ocsp !== null) lines.push(`OCSP staple: ${r.ocsp.stapled ? 'yes' : 'no'}`)
  const h = r.hsts
  lines.push(`HSTS: ${h.status === 'present' ? safeText(h.header ?? '') : h.status}`)
  for (const f of r.findings)
    lines.push(
      `${f.severity.toUpperCase()} ${f.code}: ${safeText(f.detail)} [${f.ref}] fix: ${fixFor(f.code)}`,
    )
  lines.push(`verdict: ${r.verdict}`)
  return lines
}

async function check(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { servername: STRING, ca: STRING, timeout: STRING, 'no-http': FLAG, json: FLAG },
    [1, 1],
  )
  let target: { host: string; port: number }
  try {
    target = parseTarget(positionals[0] as string)
  } catch (e) {
    if (isSafeguardsError(e, 'ERR_TRANSPORT_TARGET')) throw new UsageError(e.message)
    throw e
  }
  const timeoutText = optionalString(values, 'timeout')
  if (timeoutText !== undefined && !/^\d{3,5}$/.test(timeoutText))
    throw new UsageError('--timeout expects milliseconds, 100 to 60000')
  const caFile = optionalString(values, 'ca')
  const servername = optionalString(values, 'servername')
  let result: TlsCheckResult
  try {
    result = await checkTls(target.host, target.port, {
      ...(servername === undefined ? {} : { servername }),
      ...(caFile === undefined ? {} : { ca: await readCa(io, caFile) }),
      ...(timeoutText === undefined ? {} : { timeoutMs: Number(timeoutText) }),
      http: values['no-http'] !== true,
    })
  } catch (e) {
    if (isSafeguardsError(e, 'ERR_TRANSPORT_UNREACHABLE'))
      throw new CliExit(ExitCode.USAGE, `unreachable: ${e.message}`, { cause: e, category: 'unavailable' })
    if (isSafeguardsError(e, 'ERR_TRANSPORT_CONFIG') || isSafeguardsError(e, 'ERR_TRANSPORT_TARGET'))
      throw new UsageError(e.message, { cause: e })
    throw e
  }
  if (values.json === true) writeJson(io, result)
  else for (const line of describe(result)) writeLine(io, line)
  return result.verdict === 'fail' ? ExitCode.CHECK_FAILED : ExitCode.OK
}

/** The `transit` command. */
export const transitCommand: Command = commandOf({
  name: 'transit',
  summary: 'TLS endpoint check: protocols, suites, certificate, HSTS (transmission security)',
  usage: USAGE,
  subcommands: { check },
})
