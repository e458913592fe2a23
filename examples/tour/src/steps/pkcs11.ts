import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Secret, utf8Decode, utf8Encode } from '@safeguards/core'
import { createEnvelope, EnvelopeDecryptionError, KeyUnavailableError } from '@safeguards/envelope'
import { Pkcs11KekProvider } from '@safeguards/pkcs11'
import type { TourStep } from '../step.js'

const MODULE = process.env.SOFTHSM2_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so'

/** A throwaway SoftHSM2 token in a temporary directory, or why there is none. */
function softHsmToken(label: string, pin: string): { dir: string } | { skip: string } {
  if (!existsSync(MODULE)) return { skip: `SoftHSM2 is not installed (${MODULE}); apt-get install softhsm2` }
  const dir = mkdtempSync(join(tmpdir(), 'sg-tour-hsm-'))
  const conf = join(dir, 'softhsm2.conf')
  writeFileSync(conf, `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\n`, {
    mode: 0o600,
  })
  const init = spawnSync(
    'softhsm2-util',
    ['--init-token', '--free', '--label', label, '--so-pin', '12345678', '--pin', pin],
    { env: { ...process.env, SOFTHSM2_CONF: conf }, encoding: 'utf8' },
  )
  if (init.error !== undefined || init.status !== 0) {
    rmSync(dir, { recursive: true, force: true })
    return { skip: 'softhsm2-util could not initialise a token' }
  }
  process.env.SOFTHSM2_CONF = conf
  return { dir }
}

export const pkcs11Step: TourStep = {
  package: '@safeguards/pkcs11',
  title: 'the key-encryption key lives in an HSM token (SoftHSM2 here) and never leaves it',
  hipaa: ['164.312(a)(2)(iv) encryption and decryption', '164.312(c)(2) integrity'],
  async run(say) {
    const pin = Secret.of('246813579')
    const token = softHsmToken('tour-phi', pin.reveal())
    if ('skip' in token) {
      say(`skipped: ${token.skip}`)
      return
    }
    const hsm = await Pkcs11KekProvider.open({
      module: MODULE,
      token: { label: 'tour-phi' },
      pin,
      keyName: 'patients',
    })
    try {
      say(
        `opened token "${hsm.token.label}" (${hsm.token.model}); the PIN in a log line: ${JSON.stringify({ pin })}`,
      )
      const v1 = await hsm.rotate()
      say(`generated ${v1.keyRef} inside the token: AES-256, sensitive, never extractable`)

      const envelope = createEnvelope({ provider: hsm })
      const context = { patient: 'p-1042', purpose: 'treatment' }
      const record = utf8Encode('{"dx":"E11.9","a1c":7.2}')
      const sealed = await envelope.encrypt(record, context)
      say(
        `encrypted a record; header names ${envelope
          .inspect(sealed)
          .keys.map((k) => k.keyRef)
          .join(', ')}`,
      )
      try {
        await envelope.decrypt(sealed, { ...context, patient: 'p-9999' })
      } catch (e) {
        if (e instanceof EnvelopeDecryptionError)
          say(`wrong context: ${e.code} (unwrap failed inside the token)`)
      }

      await hsm.addVersion()
      const v2 = await hsm.promote(2)
      const moved = await envelope.rewrap(sealed, context)
      say(`rotated to ${v2.keyRef} and rewrapped: now under ${envelope.inspect(moved).keys[0]?.keyRef}`)
      await hsm.retire(1)
      try {
        await envelope.decrypt(sealed, context)
      } catch (e) {
        if (e instanceof KeyUnavailableError) say(`old copy after retiring v1: ${e.code} (${e.reason})`)
      }
      say(`rewrapped copy decrypts: ${utf8Decode(await envelope.decrypt(moved, context))}`)
      say(`versions: ${(await hsm.list()).map((d) => `v${d.version} ${d.state}`).join(', ')}`)
    } finally {
      await hsm.close()
      rmSync(token.dir, { recursive: true, force: true })
    }
  },
}
