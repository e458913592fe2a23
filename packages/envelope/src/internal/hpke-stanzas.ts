/**
 * The wrapped key (`edk`) and key reference of the recipients provider, specified in
 * `docs/formats/envelope-v1-recipients.md`:
 *
 * ```
 * edk    = 0x01 ‖ u8 n ‖ n × ( rid[16] ‖ enc[32] ‖ ct[48] )      n = 1..16, ct = AES-256-GCM(DEK) ‖ tag
 * keyRef = "hpke:" ‖ hex(rid_1) ‖ "," ‖ … ‖ hex(rid_n)
 * info   = "safeguards/envelope/hpke/v1" ‖ 0x00 ‖ wrapAAD          (wrapAAD: suite ‖ SHA-256(context))
 * aad_i  = 0x01 ‖ u8 n ‖ rid_1 ‖ … ‖ rid_n ‖ u8 i                  (i = 0..n-1)
 * ```
 *
 * Parsing is exact (fixed-size entries, the ids in the edk equal those in the key reference, in
 * order); the caller turns any mismatch into the one decryption error.
 */
import { concatBytes, hexToBytes, utf8Encode } from '@safeguards/core'
import { HPKE_ENC_LENGTH, HPKE_TAG_LENGTH } from './hpke.js'
import { RECIPIENT_ID_LENGTH } from './hpke-keys.js'

/** Stanza version 1: HPKE base mode, KEM 0x0020, KDF 0x0001, AEAD 0x0002. */
export const STANZA_VERSION = 0x01
/** Most recipients of one message. */
export const MAX_RECIPIENTS = 16
/** The provider id written into the envelope header. */
export const PROVIDER_ID = 'hpke'
const DEK_LENGTH = 32
const CT_LENGTH = DEK_LENGTH + HPKE_TAG_LENGTH
const ENTRY_LENGTH = RECIPIENT_ID_LENGTH + HPKE_ENC_LENGTH + CT_LENGTH
const INFO_LABEL = utf8Encode('safeguards/envelope/hpke/v1\u0000')
const KEY_REF_RE = /^hpke:[0-9a-f]{32}(?:,[0-9a-f]{32}){0,15}$/

/** One recipient's entry. */
export interface Stanza {
  rid: Uint8Array
  enc: Uint8Array
  ct: Uint8Array
}

/** The key reference naming `ids` (hex recipient ids, in order). */
export function keyRefFor(ids: readonly string[]): string {
  return `${PROVIDER_ID}:${ids.join(',')}`
}

/** The recipient ids of a key reference, or undefined when it is not one of ours. */
export function idsOfKeyRef(keyRef: string): string[] | undefined {
  return KEY_REF_RE.test(keyRef) ? keyRef.slice(PROVIDER_ID.length + 1).split(',') : undefined
}

/** The HPKE `info`: the label, then the envelope's wrap AAD (suite and context digest). */
export function stanzaInfo(wrapAad: Uint8Array): Uint8Array {
  return concatBytes(INFO_LABEL, wrapAad)
}

/** The HPKE `aad` of entry `index`: the edk prefix, every recipient id, the index. */
export function stanzaAad(rids: readonly Uint8Array[], index: number): Uint8Array {
  return concatBytes(Uint8Array.of(STANZA_VERSION, rids.length), ...rids, Uint8Array.of(index))
}

/** The raw ids of hex recipient ids. */
export function ridBytes(ids: readonly string[]): Uint8Array[] {
  return ids.map((id) => hexToBytes(id))
}

/** Serializes the entries into an edk. */
export function encodeStanzas(stanzas: readonly Stanza[]): Uint8Array {
  const out = new Uint8Array(2 + stanzas.length * ENTRY_LENGTH)
  out[0] = STANZA_VERSION
  out[1] = stanzas.length
  stanzas.forEach((s, i) => {
    const at = 2 + i * ENTRY_LENGTH
    out.set(s.rid, at)
    out.set(s.enc, at + RECIPIENT_ID_LENGTH)
    out.set(s.ct, at + RECIPIENT_ID_LENGTH + HPKE_ENC_LENGTH)
  })
  return out
}

/**
 * Parses an edk whose entries must carry exactly `rids`, in order; undefined on any mismatch
 * (length, version, count, an id).
 */
export function decodeStanzas(edk: Uint8Array, rids: readonly Uint8Array[]): Stanza[] | undefined {
  const n = rids.length
  if (edk.length !== 2 + n * ENTRY_LENGTH || edk[0] !== STANZA_VERSION || edk[1] !== n) return undefined
  const out: Stanza[] = []
  for (let i = 0; i < n; i++) {
    const at = 2 + i * ENTRY_LENGTH
    const rid = edk.subarray(at, at + RECIPIENT_ID_LENGTH)
    const expected = rids[i] as Uint8Array
    for (let j = 0; j < RECIPIENT_ID_LENGTH; j++) if (rid[j] !== expected[j]) return undefined
    out.push({
      rid,
      enc: edk.subarray(at + RECIPIENT_ID_LENGTH, at + RECIPIENT_ID_LENGTH + HPKE_ENC_LENGTH),
      ct: edk.subarray(at + RECIPIENT_ID_LENGTH + HPKE_ENC_LENGTH, at + ENTRY_LENGTH),
    })
  }
  return out
}
