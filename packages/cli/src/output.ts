/**
 * Output helpers shared by subcommands: one JSON document on stdout for `--json`, plain lines,
 * escaping of text the CLI did not produce, and progress on stderr (a bar on a terminal, a line
 * every few seconds otherwise).
 *
 * @module
 */
import { type Clock, systemClock } from '@safeguards/core'
import type { CliIO } from './command.js'
import { currentRunState } from './internal/run-state.js'

/**
 * True for a character that must never reach a terminal raw from untrusted input: C0 controls (ESC
 * starts escape sequences that set the window title, clear the screen or move the cursor; BEL, CR
 * and LF forge or hide lines), DEL, C1 controls (U+0085 is a line break, U+009B a one-byte CSI),
 * the Unicode line and paragraph separators, and the bidirectional marks, embeddings, overrides and
 * isolates (U+061C, U+200E-200F, U+202A-202E, U+2066-2069), which reorder what a reviewer sees
 * (CVE-2021-42574, "Trojan Source"). With `keepLayout`, TAB and LF are allowed.
 */
function unsafe(code: number, keepLayout: boolean): boolean {
  if (code < 0x20) return !(keepLayout && (code === 0x09 || code === 0x0a))
  if (code < 0x7f) return false
  if (code <= 0x9f) return true
  return (
    code === 0x061c ||
    code === 0x200e ||
    code === 0x200f ||
    code === 0x2028 ||
    code === 0x2029 ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  )
}

const NAMED: Record<number, string> = { 9: '\\t', 10: '\\n', 13: '\\r' }
const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0')

/** Replaces each unsafe character of `text` with `escapeOf(code)`; returns `text` itself when clean. */
function replaceUnsafe(text: string, keepLayout: boolean, escapeOf: (code: number) => string): string {
  let out = ''
  let from = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (!unsafe(code, keepLayout)) continue
    out += text.slice(from, i) + escapeOf(code)
    from = i + 1
  }
  return from === 0 ? text : out + text.slice(from)
}

/** Options of {@link safeText}. */
export interface SafeTextOptions {
  /** Keep TAB and LF (for a multi-line document such as Markdown); default false. */
  multiline?: boolean
}

/**
 * Makes text the CLI did not produce (a key reference from an envelope header, a name from a
 * policy or keyring file, an error message quoting either) safe to print on a terminal: every
 * control character, DEL, C1 control, line or paragraph separator and bidirectional control is
 * replaced by a visible escape (`\x1b`, `\r`, `\n`, `\u202e`). Printable text, including
 * non-ASCII letters, is unchanged. Every value a command prints from input goes through it;
 * {@link writeLine} and the runner's messages apply it as a backstop.
 *
 * @example
 * ```ts
 * safeText('local:k@v1\x1b]0;pwned\x07') // 'local:k@v1\\x1b]0;pwned\\x07'
 * safeText('a\u202Eb') // 'a\\u202eb'
 * ```
 */
export function safeText(text: string, options?: SafeTextOptions): string {
  return replaceUnsafe(
    text,
    options?.multiline === true,
    (code) => NAMED[code] ?? (code <= 0xff ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`),
  )
}

/**
 * Serialises `document` as pretty JSON whose text holds no raw control or bidirectional
 * character: `JSON.stringify` escapes C0 controls; DEL, C1 controls, U+2028/2029 and bidi controls
 * are written as `\uXXXX` escapes too. Lossless: `JSON.parse` gives back the exact strings.
 *
 * @example
 * ```ts
 * jsonText({ keyRef: 'a\u202Eb' }) // '{\n  "keyRef": "a\\u202eb"\n}'
 * ```
 */
export function jsonText(document: unknown): string {
  // JSON.stringify leaves no raw C0 control and puts the others only inside strings, where a
  // \\uXXXX escape stands for the same character.
  return replaceUnsafe(JSON.stringify(document, null, 2), true, (code) => `\\u${hex(code, 4)}`)
}

/**
 * Writes one JSON document (pretty-printed, newline-terminated, see {@link jsonText}) to stdout.
 *
 * @example
 * ```ts
 * writeJson(io, { ok: true, records: 42, findings: [] })
 * ```
 */
export function writeJson(io: CliIO, document: unknown): void {
  const state = currentRunState()
  if (state !== undefined) state.documentWritten = true
  io.stdout.write(`${jsonText(document)}\n`)
}

/**
 * Writes a line to stdout. Control characters other than TAB and LF are escaped as a backstop
 * (see {@link safeText}); escape values from input with `safeText` as well, so they cannot add
 * lines or columns either.
 *
 * @example
 * ```ts
 * writeLine(io, 'ok: 42 records verified')
 * ```
 */
export function writeLine(io: CliIO, line: string): void {
  io.stdout.write(`${safeText(line, { multiline: true })}\n`)
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
  /** What is being counted, for example `records` (ignored with `unit: 'bytes'`, which shows MiB). */
  label: string
  /** Total units, when known. */
  total?: number
  /** `bytes`: counts bytes and shows MiB with one decimal (default `count`). */
  unit?: 'count' | 'bytes'
  /** Draw the final state on {@link Progress.done} even when nothing was drawn yet (default false). */
  final?: boolean
  /** Milliseconds between redraws on a terminal (default 100). */
  intervalMs?: number
  /** Milliseconds between lines when stderr is not a terminal (default 5000). */
  lineIntervalMs?: number
  /** Where the time between redraws is read (default `systemClock`; a `manualClock` in tests). */
  clock?: Clock
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
  const clock = options.clock ?? systemClock
  const tty = io.stderr.isTTY === true
  const interval = tty ? (options.intervalMs ?? 100) : (options.lineIntervalMs ?? 5000)
  const bytes = options.unit === 'bytes'
  const label = bytes ? 'MiB' : options.label
  const show = (n: number): string => (bytes ? (n / 1048576).toFixed(1) : String(n))
  const started = clock.now()
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
      return `${bar}${(ratio * 100).toFixed(0)}% ${show(count)}/${show(total)} ${label}`
    }
    return `${show(count)} ${label}`
  }
  const draw = (): void => {
    if (tty) io.stderr.write(`\r${render()}\x1b[K`)
    else io.stderr.write(`${render()}\n`)
    drawn = true
  }
  return {
    tick(n = 1): void {
      count += n
      const t = clock.now()
      if (t - last >= interval) {
        last = t
        draw()
      }
    },
    setTotal(value: number): void {
      total = value
    },
    done(): void {
      if (tty && (drawn || options.final === true)) io.stderr.write(`\r${render()}\x1b[K\n`)
      else if (!tty && options.final === true) draw()
    },
  }
}
