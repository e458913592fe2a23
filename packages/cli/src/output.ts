/**
 * Output helpers shared by subcommands: one JSON document on stdout for `--json`, plain lines,
 * and progress on stderr (a bar on a terminal, a line every few seconds otherwise).
 *
 * @module
 */
import type { CliIO } from './command.js'

/**
 * Writes one JSON document (pretty-printed, newline-terminated) to stdout.
 *
 * @example
 * ```ts
 * writeJson(io, { ok: true, records: 42, findings: [] })
 * ```
 */
export function writeJson(io: CliIO, document: unknown): void {
  io.stdout.write(`${JSON.stringify(document, null, 2)}\n`)
}

/**
 * Writes a line to stdout.
 *
 * @example
 * ```ts
 * writeLine(io, 'ok: 42 records verified')
 * ```
 */
export function writeLine(io: CliIO, line: string): void {
  io.stdout.write(`${line}\n`)
}

/** A progress reporter. */
export interface Progress {
  /** Records `n` more units of work done. */
  tick(n?: number): void
  /** Sets the total when it becomes known. */
  setTotal(total: number): void
  /** Finishes the display. */
  done(): void
}

/** Options for {@link createProgress}. */
export interface ProgressOptions {
  /** What is being counted, for example `records`. */
  label: string
  /** Total units, when known. */
  total?: number
  /** Milliseconds between redraws on a terminal (default 100). */
  intervalMs?: number
  /** Milliseconds between lines when stderr is not a terminal (default 5000). */
  lineIntervalMs?: number
  /** Clock, for tests. */
  now?: () => number
}

/**
 * Progress on stderr: a redrawn bar when stderr is a terminal, otherwise a plain line every few
 * seconds (so cron logs show that a long job is alive). Never writes to stdout.
 *
 * @example
 * ```ts
 * const progress = createProgress(io, { label: 'records', total })
 * for (const r of records) { verify(r); progress.tick() }
 * progress.done()
 * ```
 */
export function createProgress(io: CliIO, options: ProgressOptions): Progress {
  const now = options.now ?? Date.now
  const tty = io.stderr.isTTY === true
  const interval = tty ? (options.intervalMs ?? 100) : (options.lineIntervalMs ?? 5000)
  const started = now()
  let total = options.total
  let count = 0
  let last = started
  let drawn = false

  const render = (): string => {
    if (total && total > 0) {
      const ratio = Math.min(1, count / total)
      const width = 24
      const filled = Math.round(ratio * width)
      const bar = tty ? `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ` : ''
      return `${bar}${(ratio * 100).toFixed(0)}% ${count}/${total} ${options.label}`
    }
    return `${count} ${options.label}`
  }
  const draw = (): void => {
    if (tty) io.stderr.write(`\r${render()}\x1b[K`)
    else io.stderr.write(`${render()}\n`)
    drawn = true
  }
  return {
    tick(n = 1): void {
      count += n
      const t = now()
      if (t - last >= interval) {
        last = t
        draw()
      }
    },
    setTotal(value: number): void {
      total = value
    },
    done(): void {
      if (tty && drawn) io.stderr.write(`\r${render()}\x1b[K\n`)
    },
  }
}
