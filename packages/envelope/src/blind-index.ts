/**
 * Blind indexes: searching encrypted fields by equality (after CipherSweet by Paragon IE, and
 * Arciszewski's "Building Searchable Encrypted Databases with PHP and SQL", 2017). Beside each
 * ciphertext the application stores a keyed hash of the normalised plaintext, truncated to a few
 * bits; a lookup hashes the search value the same way, selects the rows whose index matches
 * (candidates), decrypts them and keeps those whose plaintext really matches. Truncation makes
 * false candidates certain, and harmless: they are decrypted and dropped.
 *
 * Construction (version 1; fixed, with known-answer tests):
 * - index key `K = HKDF-SHA-256(IKM = rootKey, salt = empty, info, L = 32)` (RFC 5869), with
 *   `info = "hge/bidx/v1" ‖ 0x00 ‖ u16 bits ‖ u16 len ‖ name ‖ u8 hasTenant ‖ u16 len ‖ tenant`
 *   (big-endian lengths of UTF-8 bytes; an absent tenant is `0x00 0x0000`), so every index name,
 *   width and tenant has an unrelated key and values cannot be compared across them;
 * - value `T = HMAC-SHA-256(K, normalize(x))` (RFC 2104; a normalised string is taken as UTF-8);
 * - output: the first `bits` bits of `T` as `ceil(bits / 8)` bytes, the unused low bits of the
 *   last byte zero, in lowercase hex (`bits = 16` → 4 characters, `bits = 12` → 4 characters
 *   ending in `0`).
 *
 * What an index leaks, to anyone who can read the column: which rows share a value (equality) and
 * how often each value occurs (frequency), up to the collisions that truncation adds; nothing
 * else without the key. See the package README ("Blind indexes") for choosing `bits`.
 *
 * HIPAA: 164.312(a)(2)(iv) encryption and decryption (PHI stays encrypted while searchable).
 *
 * @module
 */
import { hasLoneSurrogate, utf8Encode } from '@safeguards/core'
import type { BlindIndexKey } from './blind-index-key.js'
import type { BlindIndexNormalizer } from './blind-index-normalize.js'
import { BlindIndexInputError, KeyUnavailableError } from './errors.js'
import { type TruncatedHmac, truncatedHmac } from './internal/blind-index-hmac.js'
import { blindIndexKeyBytes } from './internal/blind-index-keys.js'
import { hkdf } from './internal/kdf.js'

/** Fewest bits an index may keep. */
export const BLIND_INDEX_MIN_BITS = 1
/**
 * Most bits an index may keep: 32. CipherSweet's guidance keeps at least 2 rows per index value
 * (bits ≤ log2(rows) − 1), and 32 bits already suits 2^33 rows; wider indexes would be unique
 * fingerprints of their values, which is what blind indexes are meant not to be.
 */
export const BLIND_INDEX_MAX_BITS = 32

const LABEL = utf8Encode('hge/bidx/v1')
const MAX_LABEL_BYTES = 255

/** Options of {@link createBlindIndex}. */
export interface BlindIndexOptions<T> {
  /** The root key (from `openBlindIndexKey`; `importBlindIndexKey` in tests). */
  key: BlindIndexKey
  /** The index name, unique in the application, for example `patients.ssn` (1..255 bytes of UTF-8). */
  name: string
  /** Bits kept, 1..32 (see `suggestBlindIndexBits`). */
  bits: number
  /** Maps a value to its canonical form (`normalizeSsn`, `compoundNormalizer(...)`, ...). */
  normalize: BlindIndexNormalizer<T>
  /** The tenant whose rows this index serves (1..255 bytes of UTF-8); each tenant has its own key. */
  tenant?: string
}

/** A blind index over values of type `T`. */
export interface BlindIndex<T> {
  /** The index name. */
  readonly name: string
  /** The bits kept. */
  readonly bits: number
  /** The tenant, when the index is per tenant. */
  readonly tenant: string | undefined
  /**
   * The index value to store beside the ciphertext: lowercase hex of `ceil(bits / 8)` bytes.
   *
   * @throws {BlindIndexInputError} when the normaliser refuses `value` (nothing is hashed).
   */
  compute(value: T): string
  /**
   * The index values to query for `value` (one for a single index; see `blindIndexes` for
   * rotation). Rows whose index is among them are candidates: decrypt them and compare.
   *
   * @throws {BlindIndexInputError} when the normaliser refuses `value`.
   */
  lookup(value: T): string[]
  /** Zeroises the index key; later calls throw `KeyUnavailableError`. */
  destroy(): void
}

function labelBytes(value: unknown, name: string): Uint8Array {
  if (typeof value !== 'string') throw new TypeError(`"${name}" expected a string`)
  if (hasLoneSurrogate(value)) throw new RangeError(`"${name}" expected well-formed UTF-16`)
  const bytes = utf8Encode(value)
  if (bytes.length === 0 || bytes.length > MAX_LABEL_BYTES) {
    throw new RangeError(`"${name}" expected 1..${MAX_LABEL_BYTES} bytes of UTF-8`)
  }
  return bytes
}

/** The HKDF info of an index key (module documentation). */
function blindIndexInfo(name: Uint8Array, bits: number, tenant: Uint8Array | undefined): Uint8Array {
  const t = tenant ?? new Uint8Array(0)
  const out = new Uint8Array(LABEL.length + 1 + 2 + 2 + name.length + 1 + 2 + t.length)
  let at = 0
  out.set(LABEL, at)
  at += LABEL.length + 1 // the 0x00 separator
  out[at++] = bits >>> 8
  out[at++] = bits & 0xff
  out[at++] = name.length >>> 8
  out[at++] = name.length & 0xff
  out.set(name, at)
  at += name.length
  out[at++] = tenant === undefined ? 0 : 1
  out[at++] = t.length >>> 8
  out[at++] = t.length & 0xff
  out.set(t, at)
  return out
}

/**
 * Creates a blind index: a keyed, truncated HMAC-SHA-256 of the normalised value, with its own
 * key derived from the root key by name, bits and tenant. `compute` gives the value to store,
 * `lookup` the values to query. Deterministic: the same root key, name, bits, tenant and
 * normalised value always give the same output, on every runtime.
 *
 * An index reveals equality and frequency of the indexed values to whoever reads it; choose
 * `bits` so that every index value is shared by several rows (README, "Blind indexes").
 *
 * @hipaa 164.312(a)(2)(iv) supports
 * @nist SC-28(1) 164.312(a)(2)(iv): encrypted PHI fields stay searchable by equality through keyed, truncated hashes, without decrypting the table
 * @nist SC-12 164.312(a)(2)(iv): a key per index and tenant, derived with HKDF from a root key wrapped by the KEK provider
 * @appResponsibility Choose bits from the expected row count (suggestBlindIndexBits), never index low-entropy sensitive fields alone, and decrypt and compare every candidate a lookup returns.
 * @config name, bits (1..32), normaliser, tenant
 * @verifiedBy packages/envelope/test/blind-index.test.ts
 * @throws {TypeError} for a missing key or normaliser, or a non-string name or tenant.
 * @throws {RangeError} when `bits` is not an integer in 1..32, or `name`/`tenant` is empty or too long.
 * @throws {KeyUnavailableError} when the root key was destroyed.
 * @example
 * ```ts
 * import { createBlindIndex, importBlindIndexKey, normalizeSsn } from '@safeguards/envelope'
 *
 * const key = importBlindIndexKey(new Uint8Array(32).fill(7)) // openBlindIndexKey(...) in production
 * const ssn = createBlindIndex({ key, name: 'patients.ssn', bits: 15, normalize: normalizeSsn })
 * ssn.compute('123-45-6789') // 4 hex characters, the same for '123 45 6789'
 * // SELECT id, ssn_ct FROM patients WHERE ssn_bidx = ANY($1)   -- $1 = ssn.lookup(search)
 * ```
 * @example
 * ```ts
 * import { compoundNormalizer, createBlindIndex, importBlindIndexKey, normalizeDate, normalizeName } from '@safeguards/envelope'
 *
 * const key = importBlindIndexKey(new Uint8Array(32).fill(7))
 * const nameAndBirth = createBlindIndex({
 *   key, name: 'patients.last_name+birth_date', bits: 14, tenant: 'clinic-7',
 *   normalize: compoundNormalizer({ lastName: normalizeName, birthDate: normalizeDate }),
 * })
 * nameAndBirth.compute({ lastName: 'Doe', birthDate: '1980-03-12' })
 * ```
 */
export function createBlindIndex<T>(options: BlindIndexOptions<T>): BlindIndex<T> {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" expected an object')
  const { name, bits, normalize, tenant } = options
  if (typeof bits !== 'number' || !Number.isInteger(bits)) throw new TypeError('"bits" expected an integer')
  if (bits < BLIND_INDEX_MIN_BITS || bits > BLIND_INDEX_MAX_BITS) {
    throw new RangeError(`"bits" expected an integer in [${BLIND_INDEX_MIN_BITS}, ${BLIND_INDEX_MAX_BITS}]`)
  }
  if (typeof normalize !== 'function') throw new TypeError('"normalize" expected a function')
  const nameBytes = labelBytes(name, 'name')
  const tenantBytes = tenant === undefined ? undefined : labelBytes(tenant, 'tenant')
  const root = blindIndexKeyBytes(options.key)
  let mac: TruncatedHmac | undefined = truncatedHmac(
    hkdf('sha256', root, new Uint8Array(0), blindIndexInfo(nameBytes, bits, tenantBytes), 32),
    bits,
  )
  const keyRef = options.key.keyRef

  const compute = (value: T): string => {
    if (mac === undefined) throw new KeyUnavailableError(`blind-index:${name}`, 'destroyed')
    const n = normalize(value)
    let message: Uint8Array
    if (typeof n === 'string') {
      if (hasLoneSurrogate(n))
        throw new BlindIndexInputError('index', 'normalised value is not well-formed UTF-16')
      message = utf8Encode(n)
    } else if (n instanceof Uint8Array) message = n
    else throw new TypeError('"normalize" expected to return a string or a Uint8Array')
    if (message.length === 0) throw new BlindIndexInputError('index', 'normalised value is empty')
    return mac(message)
  }
  return Object.freeze({
    name,
    bits,
    tenant,
    compute,
    lookup: (value: T): string[] => [compute(value)],
    destroy(): void {
      mac?.destroy()
      mac = undefined
    },
    toJSON: (): object => ({ name, bits, tenant, keyRef }),
  })
}

/** One index value of a {@link BlindIndexSet}: which index, and the value to store or query. */
export interface BlindIndexTerm<T> {
  /** The index that computed it. */
  readonly index: BlindIndex<T>
  /** Its value (hex). */
  readonly value: string
}

/**
 * Several indexes over one field during a migration (a new root key, more bits, another
 * normaliser): write with {@link BlindIndexSet.compute} (every index, current first), read with
 * {@link BlindIndexSet.lookup} (the distinct values of every index).
 */
export interface BlindIndexSet<T> {
  /** The index new rows are written under (the first argument of `blindIndexes`). */
  readonly current: BlindIndex<T>
  /** Every index, current first. */
  readonly indexes: readonly BlindIndex<T>[]
  /**
   * The value of every index for `value`, current first: store them all while the migration runs
   * (in one column per index, or a side table of (row, value)).
   *
   * @throws {BlindIndexInputError} when a normaliser refuses `value`.
   */
  compute(value: T): BlindIndexTerm<T>[]
  /**
   * The distinct values to query, current first: `WHERE bidx = ANY($1)` finds rows written under
   * any of the indexes. Values of different indexes may coincide; that only adds candidates.
   *
   * @throws {BlindIndexInputError} when a normaliser refuses `value`.
   */
  lookup(value: T): string[]
}

/**
 * Groups the current index of a field with the ones it replaces, for rotation: write both the
 * old and the new index during the migration, read either; drop the old one once every row has
 * the new value (then `blindIndexes(current)` alone, or the index itself).
 *
 * @throws {TypeError} when an argument is not a blind index.
 * @throws {RangeError} when the same index object is given twice.
 * @example
 * ```ts
 * import { blindIndexes, createBlindIndex, importBlindIndexKey, normalizeSsn } from '@safeguards/envelope'
 *
 * const oldKey = importBlindIndexKey(new Uint8Array(32).fill(1))
 * const newKey = importBlindIndexKey(new Uint8Array(32).fill(2))
 * const v1 = createBlindIndex({ key: oldKey, name: 'patients.ssn', bits: 12, normalize: normalizeSsn })
 * const v2 = createBlindIndex({ key: newKey, name: 'patients.ssn', bits: 15, normalize: normalizeSsn })
 * const ssn = blindIndexes(v2, v1)
 * ssn.compute('123-45-6789') // [{ index: v2, value: … }, { index: v1, value: … }]
 * ssn.lookup('123-45-6789') // [v2 value, v1 value]: query both
 * ```
 */
export function blindIndexes<T>(current: BlindIndex<T>, ...previous: BlindIndex<T>[]): BlindIndexSet<T> {
  const indexes = [current, ...previous]
  for (const index of indexes) {
    if (typeof index !== 'object' || index === null || typeof index.compute !== 'function') {
      throw new TypeError('"indexes" expected blind indexes (createBlindIndex)')
    }
  }
  if (new Set(indexes).size !== indexes.length)
    throw new RangeError('"indexes" contains the same index twice')
  return Object.freeze({
    current,
    indexes: Object.freeze(indexes),
    compute: (value: T): BlindIndexTerm<T>[] =>
      indexes.map((index) => ({ index, value: index.compute(value) })),
    lookup: (value: T): string[] => [...new Set(indexes.map((index) => index.compute(value)))],
  })
}

function assertRows(rows: unknown): asserts rows is number {
  if (typeof rows !== 'number' || !Number.isSafeInteger(rows))
    throw new TypeError('"rows" expected a safe integer')
  if (rows < 1) throw new RangeError('"rows" expected at least 1')
}

/**
 * The expected number of false candidates per lookup of a value held by `matching` rows (default
 * 1) in a table of `rows` rows: `(rows − matching) · 2^−bits`. Each row with a different value
 * matches a given `bits`-bit index value with probability 2^−bits (HMAC-SHA-256 as a random
 * function); the rows that really hold the value are always candidates.
 *
 * @throws {TypeError} when an argument is not an integer.
 * @throws {RangeError} when `bits` is outside 1..32, `rows` < 1 or `matching` outside 0..rows.
 * @example
 * ```ts
 * blindIndexFalseCandidates(15, 100_000) // ≈ 3.05: decrypt about 4 rows per SSN lookup
 * ```
 */
export function blindIndexFalseCandidates(bits: number, rows: number, matching = 1): number {
  if (typeof bits !== 'number' || !Number.isInteger(bits)) throw new TypeError('"bits" expected an integer')
  if (bits < BLIND_INDEX_MIN_BITS || bits > BLIND_INDEX_MAX_BITS)
    throw new RangeError('"bits" expected 1..32')
  assertRows(rows)
  if (!Number.isSafeInteger(matching)) throw new TypeError('"matching" expected a safe integer')
  if (matching < 0 || matching > rows) throw new RangeError('"matching" expected 0..rows')
  return (rows - matching) / 2 ** bits
}

/** Options of {@link suggestBlindIndexBits}. */
export interface SuggestBitsOptions {
  /**
   * Bits already exposed about the same field by other indexes (the sum, over each other index,
   * of min(its bits, log2 of its input domain)): indexes of one field narrow each other down.
   */
  otherBits?: number
  /**
   * log2 of the number of distinct values the field can take (rounded up), when small: an
   * index cannot separate more values than exist (a year of birth: 7; an SSN: 30).
   */
  inputBits?: number
}

/** The safe range of `bits` for a blind index, from {@link suggestBlindIndexBits}. */
export interface BlindIndexBitsRange {
  /** Fewest bits that keep the coincidence count at most √rows (lookups stay cheap). */
  min: number
  /** Most bits that keep the coincidence count at least 2 (each index value stays ambiguous). */
  max: number
}

/**
 * The safe range of `bits` for an index over `rows` rows, by CipherSweet's planner rule: the
 * coincidence count `C = rows / 2^(otherBits + min(bits, inputBits))` (the expected number of
 * rows sharing one index value) must satisfy `2 ≤ C ≤ √rows`. At least 2, so that an index value
 * never singles out a row; at most √rows, so that a lookup decrypts few candidates. For
 * `rows = 100 000` this gives 9..15 bits. CipherSweet's planner reports a maximum one higher (the
 * first width whose count falls below 2); this one returns the last width that keeps 2.
 *
 * @throws {TypeError} when an argument is not an integer.
 * @throws {RangeError} when `rows` < 1, or when no width satisfies the rule (a table of fewer
 * than 4 rows, or a field whose other indexes or small domain already give too much away: use a
 * compound index with another field instead).
 * @example
 * ```ts
 * suggestBlindIndexBits(100_000) // { min: 9, max: 15 }
 * suggestBlindIndexBits(50_000) // { min: 8, max: 14 }
 * ```
 */
export function suggestBlindIndexBits(rows: number, options: SuggestBitsOptions = {}): BlindIndexBitsRange {
  assertRows(rows)
  const other = options.otherBits ?? 0
  const input = options.inputBits ?? Number.MAX_SAFE_INTEGER
  for (const [v, n] of [
    [other, 'otherBits'],
    [input, 'inputBits'],
  ] as const) {
    if (!Number.isSafeInteger(v)) throw new TypeError(`"${n}" expected a safe integer`)
    if (v < 0) throw new RangeError(`"${n}" expected a non-negative integer`)
  }
  const sqrt = Math.sqrt(rows)
  let min: number | undefined
  let max: number | undefined
  for (let bits = BLIND_INDEX_MIN_BITS; bits <= Math.min(BLIND_INDEX_MAX_BITS, input); bits++) {
    const c = rows / 2 ** (other + bits)
    if (c >= 2 && c <= sqrt) {
      min ??= bits
      max = bits
    }
  }
  if (min === undefined || max === undefined) {
    throw new RangeError(
      'no width keeps 2 ≤ rows per index value ≤ √rows; index this field only in a compound index',
    )
  }
  return { min, max }
}
