/**
 * The format v2 key schedule (see `docs/formats/envelope-v2.md` §5-§6):
 *
 * ```
 * info       = "hge/v2" ‖ u16 suiteId ‖ D ‖ messageId          (D = SHA-256(canonicalContext))
 * OKM        = HKDF-Expand-SHA-256(PRK = DEK, info, L = 64)       (RFC 5869 §2.3; no Extract, §3.3)
 *            = T(1) ‖ T(2),  T(1) = HMAC-SHA-256(DEK, info ‖ 0x01),  T(2) = HMAC-SHA-256(DEK, T(1) ‖ info ‖ 0x02)
 * encKey     = OKM[0..32) = T(1)   commitment = OKM[32..64) = T(2)
 * nonce_i    = 00×7 ‖ u32 i ‖ u8 final;   aad_i = A (the header from the magic through the commitment)
 * wrapAAD    = "hge/v2/wrap" ‖ u16 suiteId ‖ D
 * ```
 *
 * The data key is 32 uniformly random bytes, so it is already a pseudorandom key and Extract is
 * not needed (RFC 5869 §3.3); the message id makes every message's key and commitment distinct
 * (info), as the salt did in v1. SHA-256, not SHA-512: §2.3 asks for a PRK of at least HashLen
 * octets, and the data key is 32 bytes (strict implementations, @noble/hashes among them, refuse a
 * 32-byte PRK for HKDF-SHA-512). The frame functions are v1's (`schedule.ts`), driven by
 * `MessageKeys.frameAad`.
 */
import type { Aead } from './aead.js'
import { hkdfExpandSha256Into, type KdfBackendName } from './kdf.js'
import type { MessageKeys } from './schedule.js'

/** `"hge/v2" ‖ u16 suiteId ‖ D`: the constant part of the info (from `scheduleInfo`). */
const INFO_PREFIX_LENGTH = 6 + 2 + 32
const MESSAGE_ID_LENGTH = 32
const ZERO_PREFIX = new Uint8Array(7)

// The info and OKM of the message being processed (one at a time, synchronously), zeroised after use.
const SCRATCH_INFO = new Uint8Array(INFO_PREFIX_LENGTH + MESSAGE_ID_LENGTH)
const SCRATCH_OKM = new Uint8Array(64)
const scratchKeysOf = new Map<Aead, MessageKeys>()

/** Writes the v2 OKM (encKey ‖ commitment) of one message into `okm` (64 bytes). */
function deriveInto(
  okm: Uint8Array,
  kdf: KdfBackendName,
  dek: Uint8Array,
  messageId: Uint8Array,
  infoPrefix: Uint8Array,
): void {
  SCRATCH_INFO.set(infoPrefix, 0)
  SCRATCH_INFO.set(messageId, infoPrefix.length)
  try {
    hkdfExpandSha256Into(okm, dek, SCRATCH_INFO.subarray(0, infoPrefix.length + messageId.length), kdf)
  } finally {
    SCRATCH_INFO.fill(0)
  }
}

/**
 * Derives a v2 message's keys into their own handles (streams, asynchronous backends, rewrap);
 * `frameAad` is set once the header's authenticated part is known. Call `destroyMessageKeys`.
 */
export function deriveMessageKeysV2(
  aead: Aead,
  kdf: KdfBackendName,
  dek: Uint8Array,
  messageId: Uint8Array,
  infoPrefix: Uint8Array,
  ephemeral = false,
): MessageKeys {
  const okm = new Uint8Array(64)
  try {
    deriveInto(okm, kdf, dek, messageId, infoPrefix)
    const key = aead.importKey(okm.subarray(0, 32), ephemeral)
    return { aead, key, noncePrefix: ZERO_PREFIX, commitment: okm.slice(32, 64) }
  } finally {
    okm.fill(0)
  }
}

/**
 * The scratch v2 message keys of a synchronous backend (node, noble), or undefined: views over one
 * module-level buffer, with the contract of `scratchKeys` in `schedule.ts` (derive, use without
 * yielding, wipe in a `finally`).
 */
export function scratchKeysV2(aead: Aead): MessageKeys | undefined {
  let keys = scratchKeysOf.get(aead)
  if (keys === undefined) {
    if (aead.borrowKey === undefined || aead.sealToSync === undefined || aead.openSync === undefined)
      return undefined
    keys = {
      aead,
      key: aead.borrowKey(SCRATCH_OKM.subarray(0, 32)),
      noncePrefix: ZERO_PREFIX,
      commitment: SCRATCH_OKM.subarray(32, 64),
    }
    scratchKeysOf.set(aead, keys)
  }
  return keys
}

/** Derives a v2 message's keys into the scratch buffer behind {@link scratchKeysV2}. */
export function deriveScratchKeysV2(
  kdf: KdfBackendName,
  dek: Uint8Array,
  messageId: Uint8Array,
  infoPrefix: Uint8Array,
): void {
  deriveInto(SCRATCH_OKM, kdf, dek, messageId, infoPrefix)
}

/** Zeroises the scratch v2 keys and drops their frame AAD. */
export function wipeScratchKeysV2(keys: MessageKeys): void {
  SCRATCH_OKM.fill(0)
  keys.frameAad = undefined
}
