import { manualClock, randomBytes } from '@safeguards/core'
import {
  createAesGcmSealer,
  createMemoryStore,
  createTotpAuthenticator,
  secretFromBase32,
  totpCode,
} from '@safeguards/mfa'
import { checkPasswordPolicy, createPasswordHasher } from '@safeguards/password'
import type { TourStep } from '../step.js'

export const loginStep: TourStep = {
  package: '@safeguards/password + @safeguards/mfa',
  title: 'login: an argon2id password, then a TOTP code; a replayed code is refused',
  hipaa: ['164.312(d) person or entity authentication', '164.308(a)(5)(ii)(D) password management'],
  async run(say) {
    const context = ['jdoe', 'jane.doe@stmarys.example', 'St Marys Clinic']
    const weak = checkPasswordPolicy('Password123', { mfa: true, context })
    say(`policy refuses "Password123": ${weak.problems.map((p) => p.code).join(', ')}`)
    const chosen = 'violet kettle on the harbour wall'
    say(`policy accepts a passphrase: ${checkPasswordPolicy(chosen, { mfa: true, context }).ok}`)

    const hasher = createPasswordHasher()
    const stored = await hasher.hash(chosen)
    say(`stored verifier: ${stored.slice(0, 32)}… (argon2id PHC string)`)

    const clock = manualClock(Date.UTC(2026, 10, 22, 9, 0, 1))
    const mfa = createTotpAuthenticator({
      store: createMemoryStore({ clock }),
      sealer: await createAesGcmSealer(randomBytes(32)),
      issuer: 'St Marys Clinic',
      clock,
    })
    const enrollment = await mfa.beginEnrollment('u-17', 'jane.doe@stmarys.example')
    say(
      `enrollment: QR code as SVG (${enrollment.qrSvg.reveal().length} chars) and PNG; the secret prints as ${enrollment.manualKey}`,
    )
    // The demo plays the authenticator app.
    const secret = secretFromBase32(enrollment.manualKey.reveal())
    const app = (): string => totpCode({ secret, time: clock.now() })
    say(
      `enrollment confirmed by a first code: ${(await mfa.confirmEnrollment('u-17', enrollment.credentialId, app())).valid}`,
    )

    clock.advance(30_000)
    say(`login step 1, password: ${(await hasher.verify(stored, chosen)).valid}`)
    const code = app()
    const first = await mfa.verify('u-17', code)
    say(`login step 2, TOTP code: ${first.valid}`)
    const replay = await mfa.verify('u-17', code)
    say(`the same code again: ${replay.valid ? 'accepted' : `refused (${replay.reason})`}`)
    const unknown = await hasher.dummyVerify('guess for a user that does not exist')
    say(`unknown user: dummy verify spends the same argon2id work, valid=${unknown.valid}`)
  },
}
