/**
 * SoftHSM2 for the CLI's token tests (on top of `@safeguards/pkcs11`'s test harness): fresh tokens
 * for one describe block, the options that name a key in a token, and the PIN in the environment.
 */
import { afterAll, beforeAll } from 'vitest'
import { createSoftHsm, SOFTHSM_MODULE, type SoftHsm, USER_PIN } from '../../pkcs11/test/softhsm.js'

export { describeHsm, SOFTHSM_MODULE, USER_PIN } from '../../pkcs11/test/softhsm.js'

/** The environment that holds the user PIN where the CLI looks for it by default. */
export const PIN_ENV: Record<string, string> = { SAFEGUARDS_HSM_PIN: USER_PIN }

/** `--module … --token-label LABEL --key-name NAME`. */
export function tokenOptions(label: string, keyName: string): string[] {
  return ['--module', SOFTHSM_MODULE, '--token-label', label, '--key-name', keyName]
}

/**
 * Creates a token per label before the tests of the calling describe block (call it first in the
 * block, so the block's own `beforeAll` finds the tokens) and removes them after.
 */
export function useSoftHsm(labels: string[]): { readonly serials: ReadonlyMap<string, string> } {
  let hsm: SoftHsm | undefined
  beforeAll(() => {
    hsm = createSoftHsm(labels)
  })
  afterAll(() => hsm?.cleanup())
  return {
    get serials() {
      if (hsm === undefined) throw new Error('useSoftHsm: the tokens are created in beforeAll')
      return hsm.serials
    },
  }
}
