/**
 * Shared by the format v1 and v2 known-answer tests: the vector files, and the library run with
 * the vector's randomness. The independent decoders' pieces are in spec-context.ts.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { hexToBytes } from '@safeguards/core'
import { createEnvelope, type Envelope, LocalKeyring } from '../src/index.js'

/** The fields every envelope vector has (test/vectors/envelope-v*.json). */
export interface EnvelopeVector {
  name: string
  kek: string
  keyRef: string
  dek: string
  messageId: string
  wrapIv: string
  frameLength: number
  context: Record<string, string>
  storedKeys: string[]
  plaintext: string
  ciphertext: string
}

/** The vectors of `test/vectors/<file>`. */
export function loadVectors<V extends EnvelopeVector>(file: string): V[] {
  return (JSON.parse(readFileSync(join(import.meta.dirname, 'vectors', file), 'utf8')) as { vectors: V[] })
    .vectors
}

/**
 * The randomness the vector was made with, in the order the library asks for it (KEK, DEK ‖
 * message id, wrap IV); any other request throws, so a changed order fails the test.
 */
export function vectorRandom(v: EnvelopeVector): (n: number) => Uint8Array {
  const queue = [hexToBytes(v.kek), hexToBytes(v.dek + v.messageId), hexToBytes(v.wrapIv)]
  return (n) => {
    const b = queue.shift()
    if (b?.length !== n) throw new Error(`unexpected random(${n})`)
    return b
  }
}

/** The library on an in-memory keyring, fed the vector's randomness, writing `formatVersion`. */
export async function libraryFor(v: EnvelopeVector, formatVersion?: 1 | 2): Promise<Envelope> {
  const random = vectorRandom(v)
  const provider = await LocalKeyring.inMemory({ random })
  const version = formatVersion === undefined ? {} : { formatVersion }
  return createEnvelope({
    provider,
    random,
    frameLength: v.frameLength,
    storedKeys: v.storedKeys,
    ...version,
  })
}

/** The context the caller passes to decrypt: the vector's context less its stored keys. */
export const callerContext = (v: EnvelopeVector): Record<string, string> =>
  Object.fromEntries(Object.entries(v.context).filter(([k]) => !v.storedKeys.includes(k)))
