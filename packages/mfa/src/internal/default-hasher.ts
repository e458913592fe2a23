/**
 * The default recovery-code hasher: `createPasswordHasher()` from `@safeguards/password` (argon2id
 * through the native `argon2` addon), imported on first use. Both are optional peers of this
 * package, so users of TOTP alone never install or build argon2; using recovery codes without them
 * (and without a `recoveryHasher`) throws {@link MfaDependencyError} naming the package to install.
 *
 * @module
 */
import { errorCode } from '@safeguards/core/node'
import { MfaDependencyError } from '../errors.js'
import type { RecoveryCodeHasher } from '../recovery-codes.js'

type PasswordHasher = ReturnType<typeof import('@safeguards/password').createPasswordHasher>

/** The one of `names` that `e` says is not installed (not something failing inside it), if any. */
function missingPackage(e: unknown, names: readonly string[]): string | undefined {
  if (errorCode(e) !== 'ERR_MODULE_NOT_FOUND') return undefined
  const message = e instanceof Error ? e.message : ''
  return names.find((n) => message.includes(`'${n}'`))
}

/**
 * A hasher that loads `@safeguards/password` when first asked to hash or verify.
 *
 * @throws {MfaDependencyError} from `hash`/`verify`/`dummyVerify` when `@safeguards/password` or
 *   `argon2` cannot be resolved.
 */
export function lazyPasswordHasher(): RecoveryCodeHasher {
  let hasher: Promise<PasswordHasher> | undefined
  const get = (): Promise<PasswordHasher> => {
    hasher ??= import('@safeguards/password').then(
      (m) => m.createPasswordHasher(),
      (e: unknown) => {
        hasher = undefined
        const missing = missingPackage(e, ['@safeguards/password', 'argon2'])
        throw missing === undefined ? e : new MfaDependencyError(missing, e)
      },
    )
    return hasher
  }
  return {
    hash: async (code) => (await get()).hash(code),
    verify: async (hash, code) => (await get()).verify(hash, code),
    dummyVerify: async (code) => (await get()).dummyVerify(code),
  }
}
