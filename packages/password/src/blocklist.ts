/**
 * The shipped blocklist of common and breached passwords: the `passwords-common` dictionary of
 * `@zxcvbn-ts/language-common` (MIT, maintained by the zxcvbn-ts project; about 49,000 entries
 * ranked by frequency in public breach corpora, lower-cased). NIST SP 800-63B rev 4 §3.1.1.2 asks
 * verifiers to compare new passwords against such a list.
 *
 * @module
 */
import { dictionary } from '@zxcvbn-ts/language-common'

let set: ReadonlySet<string> | undefined

/**
 * The blocklist as a set of lower-case strings (built on first use).
 *
 * HIPAA: 164.308(a)(5)(ii)(D) password management.
 *
 * @throws never.
 * @example
 * ```ts
 * commonPasswords().has('password1') // true
 * ```
 */
export function commonPasswords(): ReadonlySet<string> {
  set ??= new Set((dictionary['passwords-common'] as readonly string[]).map((p) => p.normalize('NFKC')))
  return set
}
