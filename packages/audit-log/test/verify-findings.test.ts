/**
 * What the verifier concludes, finding by finding, on logs built to have exactly one problem:
 * classification by error code (never by message text), anchors that are empty or missing,
 * empty logs, and the checkpoint chain checks (splices, rollbacks, truncation, unanchored tails).
 */
import { describe, expect, it } from 'vitest'
import {
  CheckpointError,
  CheckpointSignatureError,
  type Keyring,
  openFileStore,
  readCheckpointUnverified,
  UnknownCheckpointKeyError,
} from '../src/index.js'
import { signedLog, verifyEveryWay } from './helpers.js'

/** A keyring that reads checkpoints without checking them, and refuses the one at `size` with `error`. */
function refusingKeyring(size: number, error: Error): Keyring {
  return {
    kids: ['k'],
    async verify(jws) {
      const v = readCheckpointUnverified(jws)
      if (v.body.size === size) throw error
      return { ...v, kid: 'k', jws }
    },
  }
}

describe('checkpoint failures are classified by error code, never by message text', () => {
  const cases: [string, Error, string][] = [
    [
      'an unknown key whose message does not say so',
      withMessage(new UnknownCheckpointKeyError('k'), 'no such kid'),
      'UNKNOWN_KEY',
    ],
    [
      'a bad signature whose message says "unknown key"',
      new CheckpointSignatureError('unknown key material'),
      'CHECKPOINT_SIG_INVALID',
    ],
    [
      'a malformed checkpoint whose message mentions a signature',
      new CheckpointError('signature member missing'),
      'CHECKPOINT_MALFORMED',
    ],
  ]
  for (const [name, error, code] of cases)
    it(name, async () => {
      const { dir } = await signedLog(6, { every: 3 })
      const r = await verifyEveryWay(await openFileStore({ dir, readOnly: true }), {
        keyring: refusingKeyring(3, error),
      })
      expect(r.findings.filter((f) => f.severity === 'error')).toEqual([
        expect.objectContaining({ code, seq: 2, checkpoint: 0 }),
      ])
    })
})

/** The error with another message (a keyring words its errors its own way; the code stays). */
function withMessage<E extends Error>(e: E, message: string): E {
  e.message = message
  return e
}
