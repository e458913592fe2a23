/** The public types of per-subject keys (crypto-shredding). */
import { describe, expectTypeOf, test } from 'vitest'
import {
  createSubjectEnvelope,
  createSubjectKeys,
  type EnvelopeErrorCode,
  fileSubjectKeyStore,
  type KekProvider,
  memorySubjectKeyStore,
  type ShredResult,
  type SubjectEnvelope,
  type SubjectKeyStore,
  type SubjectKeys,
  type SubjectKeysOptions,
  type SubjectRewrapResult,
  type SubjectShreddedError,
  type SubjectStatus,
} from '../src/index.js'

describe('per-subject keys', () => {
  test('factories and stores', () => {
    expectTypeOf(createSubjectKeys).parameter(0).toEqualTypeOf<SubjectKeysOptions>()
    expectTypeOf(createSubjectKeys).returns.toEqualTypeOf<SubjectKeys>()
    expectTypeOf<SubjectKeys['provider']>().toEqualTypeOf<KekProvider>()
    expectTypeOf<SubjectKeys['forSubject']>().returns.toEqualTypeOf<KekProvider>()
    expectTypeOf<SubjectKeys['shredSubject']>().returns.resolves.toEqualTypeOf<ShredResult>()
    expectTypeOf<SubjectKeys['status']>().returns.resolves.toEqualTypeOf<SubjectStatus>()
    expectTypeOf<SubjectKeys['rewrapSubjectKeys']>().returns.resolves.toEqualTypeOf<SubjectRewrapResult>()
    expectTypeOf(createSubjectEnvelope).returns.toEqualTypeOf<SubjectEnvelope>()
    expectTypeOf(fileSubjectKeyStore).returns.toEqualTypeOf<SubjectKeyStore>()
    expectTypeOf(memorySubjectKeyStore).returns.toEqualTypeOf<SubjectKeyStore>()
  })
  test('errors', () => {
    expectTypeOf<SubjectShreddedError['keyRef']>().toBeString()
    expectTypeOf<'ERR_SUBJECT_SHREDDED'>().toMatchTypeOf<EnvelopeErrorCode>()
  })
})
