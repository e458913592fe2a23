/**
 * CLI errors and exit codes. A command throws {@link UsageError} for bad arguments or malformed
 * input (exit 2) and {@link CliExit} to end with another documented exit code and a one-line
 * message. Any other error the SDK throws on purpose (a branded `SafeguardsError`) ends the command
 * with the exit code of its `category` ({@link categoryExitCodes}); anything else is a bug (exit 70).
 * The runner prints the message to stderr without a stack trace.
 *
 * Exit codes 70, 74 and 75 are the BSD `sysexits.h` values `EX_SOFTWARE`, `EX_IOERR` and
 * `EX_TEMPFAIL`, which service managers and job runners already know.
 *
 * @module
 */
import { CodedError, type ErrorCategory, isSafeguardsError } from '@safeguards/core'

/** Error codes raised by `@safeguards/cli`. */
export type CliErrorCode = 'ERR_CLI_USAGE' | 'ERR_CLI_EXIT'

/**
 * Exit codes shared by every subcommand (the global table). Commands document any others (for
 * example `backup verify` 3 to 6).
 */
export const ExitCode: {
  readonly OK: 0
  readonly CHECK_FAILED: 1
  readonly USAGE: 2
  readonly KEY_UNAVAILABLE: 3
  readonly SOFTWARE: 70
  readonly IO: 74
  readonly TEMPFAIL: 75
} = Object.freeze({
  OK: 0,
  CHECK_FAILED: 1,
  USAGE: 2,
  KEY_UNAVAILABLE: 3,
  SOFTWARE: 70,
  IO: 74,
  TEMPFAIL: 75,
})

/**
 * The exit code of an SDK error, by its category: integrity 1; invalid argument, invalid input,
 * conflict and limit 2; key unavailable 3; I/O 74 (`EX_IOERR`); unavailable 75 (`EX_TEMPFAIL`: a
 * lock held by another process, a store that is down: try again later).
 */
export const categoryExitCodes: Readonly<Record<ErrorCategory, number>> = Object.freeze({
  integrity: ExitCode.CHECK_FAILED,
  'invalid-argument': ExitCode.USAGE,
  'invalid-input': ExitCode.USAGE,
  conflict: ExitCode.USAGE,
  limit: ExitCode.USAGE,
  'key-unavailable': ExitCode.KEY_UNAVAILABLE,
  io: ExitCode.IO,
  unavailable: ExitCode.TEMPFAIL,
})

/** The category a {@link CliExit} reports when neither it nor its cause names one. */
function categoryOfExit(exitCode: number): ErrorCategory {
  for (const [category, code] of Object.entries(categoryExitCodes) as [ErrorCategory, number][])
    if (code === exitCode) return category
  return CliExit.category // a command's own code: a check of some kind failed (backup verify 3..6)
}

/**
 * Bad command-line usage or malformed input: exit code 2 and a one-line message that names the
 * bad argument (never its value when the value might be a secret).
 *
 * @example
 * ```ts
 * throw new UsageError('--keyring is required')
 * throw new UsageError('--file is not valid JSON', { cause: e, category: 'invalid-input' })
 * ```
 */
export class UsageError extends CodedError<'ERR_CLI_USAGE'> {
  static override readonly code: 'ERR_CLI_USAGE' = 'ERR_CLI_USAGE'
  static override readonly category: ErrorCategory = 'invalid-argument'
  /** `invalid-argument` (a bad option), or `invalid-input` (a malformed file or document). */
  override readonly category: 'invalid-argument' | 'invalid-input'
  /** Always 2. */
  readonly exitCode: 2 = ExitCode.USAGE
  /**
   * @param message - one line naming the bad argument.
   * @param options - the cause; `category` `invalid-argument` (default) or `invalid-input`.
   */
  constructor(
    message: string,
    options?: { cause?: unknown; category?: 'invalid-argument' | 'invalid-input' },
  ) {
    super(message, { cause: options?.cause })
    this.category = options?.category ?? 'invalid-argument'
  }
}

/**
 * Ends the command with `exitCode` and a one-line message on stderr (for example exit 1 "audit log
 * verification failed", or exit 3 "key unavailable: kek/3"). Pass the SDK error behind it as
 * `cause`: a `--json` failure document then reports that error's code and category.
 *
 * @example
 * ```ts
 * throw new CliExit(3, 'key unavailable: local/2', { cause: error })
 * ```
 */
export class CliExit extends CodedError<'ERR_CLI_EXIT'> {
  static override readonly code: 'ERR_CLI_EXIT' = 'ERR_CLI_EXIT'
  /** The category of an exit code that stands for none in {@link categoryExitCodes}. */
  static override readonly category: ErrorCategory = 'integrity'
  /** The given category, else the cause's, else the one the exit code stands for. */
  override readonly category: ErrorCategory
  /** The process exit code. */
  readonly exitCode: number
  /**
   * @param exitCode - 1 to 125.
   * @param message - one safe line, or '' to print nothing.
   * @param options - the cause, and the category to report (default: the cause's, else the
   * category the exit code stands for in {@link categoryExitCodes}).
   * @throws {RangeError} when `exitCode` is not 1..125.
   */
  constructor(exitCode: number, message: string, options?: { cause?: unknown; category?: ErrorCategory }) {
    if (!Number.isInteger(exitCode) || exitCode < 1 || exitCode > 125)
      throw new RangeError('"exitCode" expected 1..125')
    const cause = options?.cause
    super(message, { cause })
    this.category =
      options?.category ?? (isSafeguardsError(cause) ? cause.category : categoryOfExit(exitCode))
    this.exitCode = exitCode
  }
}
