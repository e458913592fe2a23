/**
 * What the runner reports when a command fails: the exit code (by the global table), and the code,
 * category and one-line message that go to stderr and, after `--json`, into the failure document on
 * stdout.
 *
 * @module
 */
import { type ErrorCategory, isSafeguardsError } from '@safeguards/core'
import { errorCode } from '@safeguards/core/node'
import { CliExit, categoryExitCodes, ExitCode, UsageError } from './errors.js'
import { safeText } from './output.js'

/** The code reported for an error that is not the SDK's (a bug): exit 70. */
export const INTERNAL_ERROR_CODE = 'ERR_CLI_INTERNAL'

/** A failure's category: an SDK {@link ErrorCategory}, or `internal` for an unexpected error. */
export type FailureCategory = ErrorCategory | 'internal'

/**
 * The document `--json` prints on stdout when a command fails without a result document of its
 * own. Stable: match on `error.code` and `exitCode`, never on `message`.
 *
 * ```json
 * { "ok": false, "error": { "code": "ERR_IO", "category": "io", "message": "cannot read the input /data/x (ENOENT)" }, "exitCode": 74 }
 * ```
 */
export interface FailureDocument {
  /** Always `false`. */
  ok: false
  /** What failed. */
  error: {
    /** The SDK error code (`ERR_…`), `ERR_CLI_USAGE` for a usage error, `ERR_CLI_INTERNAL` for a bug. */
    code: string
    /** The category the exit code was chosen by. */
    category: FailureCategory
    /** The same one line as on stderr (control characters escaped). */
    message: string
  }
  /** The process exit code. */
  exitCode: number
}

/** A failure as the runner reports it. */
export interface CliFailure {
  /** The process exit code. */
  exitCode: number
  /** See {@link FailureDocument}. */
  code: string
  /** See {@link FailureDocument}. */
  category: FailureCategory
  /** The message, not yet escaped; empty when nothing is to be printed. */
  message: string
  /** The line for stderr (the message, with the code of an SDK error), not yet escaped. */
  line: string
}

/**
 * Classifies a thrown value: {@link UsageError} exit 2; {@link CliExit} its own exit code (reporting
 * the code of the SDK error behind it, if any); any other SDK error by its category
 * ({@link categoryExitCodes}); anything else exit 70 with the error's system code at most (its
 * message may hold a path or data, so it is not printed).
 *
 * @example
 * ```ts
 * describeFailure(new IoError('read', '/x')) // { exitCode: 74, code: 'ERR_IO', category: 'io', message: 'cannot read /x', line: 'cannot read /x (ERR_IO)' }
 * ```
 */
export function describeFailure(error: unknown): CliFailure {
  if (error instanceof UsageError) {
    const { code, category, message } = error
    return { exitCode: ExitCode.USAGE, code, category, message, line: message }
  }
  if (error instanceof CliExit) {
    const cause = error.cause
    return {
      exitCode: error.exitCode,
      code: isSafeguardsError(cause) ? cause.code : error.code,
      category: error.category,
      message: error.message,
      line: error.message,
    }
  }
  if (isSafeguardsError(error)) {
    return {
      exitCode: categoryExitCodes[error.category] ?? ExitCode.SOFTWARE,
      code: error.code,
      category: error.category,
      message: error.message,
      line: `${error.message} (${error.code})`,
    }
  }
  const code = errorCode(error)
  const message = `unexpected error${code === undefined ? '' : ` (${code.slice(0, 64)})`}; set SAFEGUARDS_DEBUG=1 for details`
  return {
    exitCode: ExitCode.SOFTWARE,
    code: INTERNAL_ERROR_CODE,
    category: 'internal',
    message,
    line: message,
  }
}

/**
 * The `--json` failure document for `failure` (its message with control characters escaped, as on
 * stderr).
 *
 * @example
 * ```ts
 * writeJson(io, failureDocument(describeFailure(error)))
 * ```
 */
export function failureDocument(failure: CliFailure): FailureDocument {
  return {
    ok: false,
    error: { code: failure.code, category: failure.category, message: safeText(failure.message) },
    exitCode: failure.exitCode,
  }
}
