/**
 * The encryption seam. `@safeguards/backup` does not implement encryption: it takes any object of
 * this shape, which is exactly the shape of the object `@safeguards/envelope`'s `createEnvelope`
 * returns (AES-256-GCM envelope encryption with a key ring). Each payload file is bound to its
 * bag and its path through the encryption context, so a ciphertext moved to another path or
 * another bag no longer decrypts.
 *
 * @module
 */

/**
 * Encrypts and decrypts payload files, binding each to a context (authenticated data). The
 * streaming members are optional; when present they are used for every file, so memory stays at
 * one frame whatever the file size (envelope's `encryptStream`/`decryptStream` have this shape).
 */
export interface PayloadCipher {
  /** Encrypts `plaintext`; the same `context` must be given to `decrypt`. */
  encrypt(plaintext: Uint8Array, context: Record<string, string>): Promise<Uint8Array>
  /** Decrypts, or throws when the ciphertext, the key or the context is wrong. */
  decrypt(ciphertext: Uint8Array, context: Record<string, string>): Promise<Uint8Array>
  /** Optional: plaintext in, ciphertext out. */
  encryptStream?(context: Record<string, string>): TransformStream<Uint8Array, Uint8Array>
  /** Optional: ciphertext in, plaintext out; errors unless the whole ciphertext authenticates. */
  decryptStream?(context: Record<string, string>): TransformStream<Uint8Array, Uint8Array>
}

/**
 * The encryption context for one payload file: the bag id and the bag-relative path (NFC, `/`
 * separators, starting with `data/`).
 *
 * HIPAA: 164.312(a)(2)(iv) encryption and decryption; 164.312(c)(1) integrity (a file swapped
 * between paths or bags fails to decrypt).
 *
 * @throws never.
 * @example
 * ```ts
 * payloadContext('8f0c…', 'data/db.dump') // { 'safeguards.backup.bag': '8f0c…', 'safeguards.backup.path': 'data/db.dump' }
 * ```
 */
export function payloadContext(bagId: string, path: string): Record<string, string> {
  return { 'safeguards.backup.bag': bagId, 'safeguards.backup.path': path.normalize('NFC') }
}
