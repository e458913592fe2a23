/**
 * The public types of the blind-index API (issue 17 §2), apart from `api.test-d.ts` so that the
 * other phase-two changes to the envelope do not touch the same file.
 */
import type { SafeguardsError } from '@safeguards/core'
import { describe, expectTypeOf, test } from 'vitest'
import {
  type BlindIndex,
  type BlindIndexBitsRange,
  type BlindIndexErrorCode,
  type BlindIndexInputError,
  type BlindIndexKey,
  type BlindIndexSet,
  blindIndexes,
  compoundNormalizer,
  createBlindIndex,
  generateBlindIndexKey,
  importBlindIndexKey,
  normalizeDate,
  normalizeName,
  normalizeSsn,
  openBlindIndexKey,
  suggestBlindIndexBits,
  type WrappedBlindIndexKey,
} from '../src/index.js'

describe('blind-index public types', () => {
  test('indexes are typed by the normaliser input', () => {
    const key = importBlindIndexKey(new Uint8Array(32))
    expectTypeOf(key).toEqualTypeOf<BlindIndexKey>()
    const ssn = createBlindIndex({ key, name: 'patients.ssn', bits: 15, normalize: normalizeSsn })
    expectTypeOf(ssn).toEqualTypeOf<BlindIndex<string>>()
    expectTypeOf(ssn.compute).returns.toEqualTypeOf<string>()
    expectTypeOf(ssn.lookup).returns.toEqualTypeOf<string[]>()
    const compound = createBlindIndex({
      key,
      name: 'patients.name+birth',
      bits: 14,
      normalize: compoundNormalizer({ lastName: normalizeName, birthDate: normalizeDate }),
    })
    expectTypeOf(compound.compute)
      .parameter(0)
      .toEqualTypeOf<{ readonly lastName: string; readonly birthDate: string }>()
    expectTypeOf(blindIndexes(ssn)).toEqualTypeOf<BlindIndexSet<string>>()
    expectTypeOf(suggestBlindIndexBits).returns.toEqualTypeOf<BlindIndexBitsRange>()
  })

  test('root keys and errors', () => {
    expectTypeOf(generateBlindIndexKey).returns.resolves.toEqualTypeOf<{
      key: BlindIndexKey
      wrapped: WrappedBlindIndexKey
    }>()
    expectTypeOf(openBlindIndexKey).returns.resolves.toEqualTypeOf<BlindIndexKey>()
    expectTypeOf<BlindIndexInputError>().toMatchTypeOf<SafeguardsError<BlindIndexErrorCode>>()
  })
})
