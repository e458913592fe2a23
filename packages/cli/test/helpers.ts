import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable, type Writable } from 'node:stream'
import { afterAll } from 'vitest'
import { type CliIO, runCli } from '../src/index.js'

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

/** A temporary working folder for one test file, removed after it; `p(name)` is a path inside. */
export function workDir(prefix: string): { dir: string; p: (name: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  return { dir, p: (name) => join(dir, name) }
}

/** Options of {@link runBinary}. */
export interface BinaryRunOptions {
  /** stderr is a terminal (progress bars). */
  tty?: boolean
  env?: Record<string, string>
  /** The standard input: bytes, or a stream; empty when absent. */
  stdin?: Uint8Array | Readable
  /** Where stdout goes instead of the capture (the returned stdout is then empty). */
  stdout?: Writable
}

/** Runs the CLI in `cwd`; stdout is captured as bytes (ciphertexts), stderr as text. */
export async function runBinary(
  cwd: string,
  argv: string[],
  opts: BinaryRunOptions = {},
): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const f = fakeIO('', { tty: opts.tty ?? false, env: opts.env ?? {} })
  const out: Uint8Array[] = []
  const stdout = opts.stdout ?? new PassThrough()
  if (opts.stdout === undefined) stdout.on('data', (c: Uint8Array) => out.push(c))
  const stdin =
    opts.stdin instanceof Uint8Array ? Readable.from([opts.stdin]) : (opts.stdin ?? Readable.from([]))
  const io: CliIO = { ...f.io, stdout, cwd, stdin }
  const code = await runCli(argv, io)
  return { code, stdout: Buffer.concat(out), stderr: f.stderr() }
}
