import {
  bytesToHex,
  CanonicalJsonError,
  canonicalize,
  JsonParseError,
  parseJson,
  Secret,
  sha256,
  timingSafeEqual,
  utf8Encode,
} from '@safeguards/core'
import type { TourStep } from '../step.js'

export const coreStep: TourStep = {
  package: '@safeguards/core',
  title: 'canonical JSON, hashing, constant-time comparison and redacted secrets',
  hipaa: ['164.312(c)(1) integrity', '164.312(b) audit controls'],
  async run(say) {
    const event = {
      outcome: 'success',
      action: 'read',
      recorded: '2026-11-22T09:00:00Z',
      agent: { id: 'u-17' },
    }
    const canonical = canonicalize(event)
    say(`canonical form (RFC 8785): ${canonical}`)
    say(`sha256: ${bytesToHex(sha256(utf8Encode(canonical)))}`)
    const reordered = canonicalize({
      agent: { id: 'u-17' },
      recorded: event.recorded,
      action: 'read',
      outcome: 'success',
    })
    say(`same bytes whatever the key order: ${reordered === canonical}`)
    try {
      parseJson('{"role":"nurse","role":"admin"}')
    } catch (e) {
      if (e instanceof JsonParseError) say(`duplicate keys refused: ${e.code} (${e.message})`)
    }
    try {
      canonicalize({ dose: Number.NaN })
    } catch (e) {
      if (e instanceof CanonicalJsonError) say(`NaN refused: ${e.code} at ${e.path}`)
    }
    const tag = sha256(utf8Encode('expected'))
    say(`constant-time compare of two digests: ${timingSafeEqual(tag, sha256(utf8Encode('expected')))}`)
    const password = Secret.of('correct horse battery staple')
    say(`a Secret in a log line: ${JSON.stringify({ user: 'u-17', password })}`)
  },
}
