import { utf8Decode, utf8Encode } from '@safeguards/core'
import {
  createEnvelope,
  EnvelopeDecryptionError,
  inspectEnvelope,
  KeyUnavailableError,
  LocalKeyring,
} from '@safeguards/envelope'
import type { TourStep } from '../step.js'

export const envelopeStep: TourStep = {
  package: '@safeguards/envelope',
  title: 'envelope encryption of a PHI field, key rotation, rewrap without plaintext, retire',
  hipaa: [
    '164.312(a)(2)(iv) encryption and decryption',
    '164.312(c)(2) integrity',
    '164.312(e)(2)(ii) encryption',
  ],
  async run(say) {
    const keyring = await LocalKeyring.inMemory({ name: 'patients' })
    const envelope = createEnvelope({ provider: keyring })
    const context = { table: 'patients', column: 'ssn', row: 'p-1042' }
    const ct = await envelope.encrypt(utf8Encode('123-45-6789'), context)
    const info = inspectEnvelope(ct)
    say(
      `encrypted 11 bytes into ${ct.length}: ${info.suite}, key ${info.keys[0]?.keyRef} (inspect needs no key)`,
    )
    say(`decrypted with the same context: ${utf8Decode(await envelope.decrypt(ct, context))}`)
    try {
      await envelope.decrypt(ct, { ...context, row: 'p-1043' })
    } catch (e) {
      if (e instanceof EnvelopeDecryptionError) say(`moved to another row: ${e.code} ("${e.message}")`)
    }
    const tampered = ct.slice()
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1
    await envelope.decrypt(tampered, context).catch((e: unknown) => {
      if (e instanceof EnvelopeDecryptionError) say(`one flipped bit: the same ${e.code}`)
    })
    const next = await keyring.addVersion()
    await keyring.promote(next.version)
    say(`rotated: ${next.keyRef} is primary; old ciphertext needs rewrap: ${await envelope.needsRewrap(ct)}`)
    const moved = await envelope.rewrap(ct, context)
    say(`rewrapped header only: now under ${inspectEnvelope(moved).keys[0]?.keyRef}, body bytes unchanged`)
    await keyring.retire(1)
    await envelope.decrypt(ct, context).catch((e: unknown) => {
      if (e instanceof KeyUnavailableError)
        say(`after retiring v1 the old copy reports ${e.code}: ${e.keyRef} (${e.reason})`)
    })
    say(`the rewrapped copy still decrypts: ${utf8Decode(await envelope.decrypt(moved, context))}`)
  },
}
