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
