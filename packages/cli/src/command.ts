/**
 * The contract every `safeguards` subcommand implements. Later packages add a file under
 * `src/commands/` that exports a {@link Command} and list it in `src/commands/index.ts`.
 *
 * @module
 */

/** Where a command reads and writes. The real process streams in production, fakes in tests. */
export interface CliIO {
  /** Standard input. */
  stdin: NodeJS.ReadableStream
  /** Standard output: results only (one JSON document with `--json`). */
  stdout: NodeJS.WritableStream
  /** Standard error: messages and progress. `isTTY` decides whether progress is drawn as a bar. */
  stderr: NodeJS.WritableStream & { isTTY?: boolean }
  /** Environment variables. */
  env: Record<string, string | undefined>
  /** Working directory that relative paths are resolved against. */
  cwd: string
}

/** What a command receives when it runs. */
export interface CommandContext {
  /** Arguments after the command name (for `safeguards audit verify --log x`, `['verify', '--log', 'x']`). */
  argv: string[]
  /** Streams and environment. */
  io: CliIO
}

/** A `safeguards` subcommand. */
export interface Command {
  /** The word after `safeguards`, for example `keys`. */
  name: string
  /** One line for `safeguards --help`. */
  summary: string
  /** Full help text, printed for `safeguards NAME --help`. */
  usage: string
  /**
   * Runs the command and resolves to its exit code. Throw `UsageError` for usage errors and
   * `CliExit` for other documented failures, and let other SDK errors propagate: the runner prints
   * one line without a stack trace, exits by the error's category, and writes the `--json` failure
   * document.
   */
  run(context: CommandContext): Promise<number>
}
