/**
 * The public API's types, checked by Vitest typecheck (and by `tsc -p tsconfig.test.json`): a
 * breaking change to an exported signature fails CI here before a user's build does.
 */
import type { SessionStore } from '@safeguards/session'
import { describe, expectTypeOf, test } from 'vitest'
import type { ErrorCodes } from '../../../scripts/test-support/error-codes.js'
import type * as api from '../src/index.js'
import {
  createRedisSessionStore,
  type RedisCommandClient,
  type RedisSessionStoreOptions,
} from '../src/index.js'

describe('@safeguards/session-redis public types', () => {
  test('createRedisSessionStore', () => {
    expectTypeOf(createRedisSessionStore).parameter(0).toEqualTypeOf<RedisSessionStoreOptions>()
    expectTypeOf(createRedisSessionStore).returns.toEqualTypeOf<SessionStore>()
    expectTypeOf<RedisSessionStoreOptions['client']>().toEqualTypeOf<RedisCommandClient>()
    expectTypeOf<RedisSessionStoreOptions['prefix']>().toEqualTypeOf<string | undefined>()
  })
})

test('error codes: the session store contract, re-exported', () => {
  expectTypeOf<ErrorCodes<typeof api>>().toEqualTypeOf<{
    SessionStoreUnavailableError: 'ERR_SESSION_STORE_UNAVAILABLE'
  }>()
})
