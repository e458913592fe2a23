import { readdirSync } from 'node:fs'
import { PassThrough, Readable } from 'node:stream'
import type { CliIO } from '../src/index.js'

/** An in-memory CliIO: captured stdout and stderr, optional stdin text. */
export function fakeIO(
  stdin = '',
  opts: { tty?: boolean; env?: Record<string, string> } = {},
): {
  io: CliIO
  stdout: () => string
  stderr: () => string
} {
  const out: string[] = []
  const err: string[] = []
  const stdout = new PassThrough()
  stdout.on('data', (c: Uint8Array) => out.push(new TextDecoder().decode(c)))
  const stderr = Object.assign(new PassThrough(), { isTTY: opts.tty ?? false })
  stderr.on('data', (c: Uint8Array) => err.push(new TextDecoder().decode(c)))
  return {
    io: { stdin: Readable.from([stdin]), stdout, stderr, env: opts.env ?? {}, cwd: process.cwd() },
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  }
}

/**
 * Command-line words from a template: the literal text is split on whitespace, an interpolated
 * array is spread (one word per element), and any other interpolated value is one word, spaces and
 * all. ``words`decrypt ${token} --in ${file}` `` is `['decrypt', ...token, '--in', file]`.
 */
export function words(
  text: TemplateStringsArray,
  ...values: Array<string | number | readonly string[]>
): string[] {
  const out: string[] = []
  text.forEach((literal, i) => {
    out.push(...literal.split(/\s+/).filter((w) => w !== ''))
    if (i >= values.length) return
    const value = values[i]
    if (Array.isArray(value)) out.push(...value)
    else out.push(String(value))
  })
  return out
}

const EHR = { observer: 'ehr-api' }

/** An audit event of the `safeguards audit append` input (JSON, one line), for record `i`. */
export function auditEvent(i: number, patient = `Patient/${i}`): string {
  const agent = { who: `Practitioner/${i}`, requestor: true }
  return JSON.stringify({ type: 'rest', action: 'R', outcome: 0, agents: [agent], source: EHR, patient })
}

/** The names in `dir`, sorted. */
export function filesIn(dir: string): string[] {
  return readdirSync(dir).sort()
}
