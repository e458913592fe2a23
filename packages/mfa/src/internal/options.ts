import { assertKnownOptions } from '@safeguards/core'
import { MfaConfigError } from '../errors.js'

/** Refuses keys of `options` outside `known` with {@link MfaConfigError} (a typo never means a default). */
export function checkOptions(options: unknown, known: readonly string[]): void {
  assertKnownOptions(options, new Set(known), (message) => new MfaConfigError(message))
}
