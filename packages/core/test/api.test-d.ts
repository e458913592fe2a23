/**
 * The public API's types, checked by Vitest typecheck (and by `tsc -p tsconfig.test.json`): a
 * breaking change to an exported signature fails CI here before a user's build does.
 */
import { describe, expectTypeOf, test } from 'vitest'
import type { ErrorCodes } from '../../../scripts/test-support/error-codes.js'
import {
  builtinModule,
  type Clock,
  createEmitter,
  criticalSink,
  type Emitter,
  type ErrorCategory,
  type EventSink,
  isSafeguardsError,
  type SafeguardEvent,
  type SafeguardEventOf,
  type SafeguardsError,
  sha256Hex,
} from '../src/index.js'
import {
  type AlertChannel,
  type AlertDelivery,
  deliverAlert,
  errorCode,
  webhookChannel,
  withFileLock,
  writeFileAtomic,
} from '../src/node/index.js'

describe('@safeguards/core public types', () => {
  test('events', () => {
    expectTypeOf(createEmitter)
      .parameter(0)
      .toMatchTypeOf<{ events?: EventSink | readonly EventSink[] } | undefined>()
    expectTypeOf(createEmitter).returns.toEqualTypeOf<Emitter>()
    expectTypeOf(criticalSink).returns.toEqualTypeOf<EventSink>()
    expectTypeOf<SafeguardEventOf<'session.expired.idle'>['type']>().toEqualTypeOf<'session.expired.idle'>()
    expectTypeOf<SafeguardEvent['outcome']>().toEqualTypeOf<'success' | 'failure'>()
  })
  test('errors', () => {
    expectTypeOf(isSafeguardsError).guards.toEqualTypeOf<SafeguardsError<string>>()
    expectTypeOf<SafeguardsError['category']>().toEqualTypeOf<ErrorCategory>()
    expectTypeOf<ErrorCodes<typeof import('../src/index.js')>>().toEqualTypeOf<{
      SafeguardsError: string
      CodedError: string
      InvalidArgumentError: 'ERR_INVALID_ARGUMENT'
      EncodingError: 'ERR_ENCODING'
      CanonicalJsonError: 'ERR_CANONICAL_JSON'
      JsonParseError: 'ERR_JSON_PARSE'
      LockTimeoutError: 'ERR_LOCK_TIMEOUT'
      LockLostError: 'ERR_LOCK_LOST'
      IoError: 'ERR_IO'
      EventSinkError: 'ERR_EVENT_SINK'
    }>()
    expectTypeOf<ErrorCodes<typeof import('../src/node/index.js')>>().toEqualTypeOf<{
      AlertDeliveryError: 'ERR_ALERT_DELIVERY'
    }>()
    expectTypeOf(errorCode).returns.toEqualTypeOf<string | undefined>()
  })
  test('clock and hashing', () => {
    expectTypeOf<Clock['now']>().returns.toBeNumber()
    expectTypeOf(sha256Hex).returns.toEqualTypeOf<string>()
    expectTypeOf(builtinModule<{ a(): void }>).returns.toEqualTypeOf<{ a(): void } | undefined>()
    expectTypeOf(writeFileAtomic).returns.resolves.toBeVoid()
    expectTypeOf(withFileLock<number>).returns.resolves.toBeNumber()
    expectTypeOf(webhookChannel<{ id: string }>).returns.toEqualTypeOf<AlertChannel<{ id: string }>>()
    expectTypeOf(deliverAlert<number>).returns.resolves.toEqualTypeOf<AlertDelivery>()
  })
})
