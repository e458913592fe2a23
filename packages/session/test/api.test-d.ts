/**
 * The public API's types, checked by Vitest typecheck (and by `tsc -p tsconfig.test.json`): a
 * breaking change to an exported signature fails CI here before a user's build does.
 */
import type { Clock, EventSink, SafeguardEvent } from '@safeguards/core'
import { describe, expectTypeOf, test } from 'vitest'
import {
  createAccessTokens,
  createIdleWatcher,
  createMemoryStore,
  createSessionManager,
  generateToken,
  type IdleWatcher,
  type IssuedSession,
  type MemorySessionStore,
  type ReauthRequiredError,
  type Session,
  type SessionConfigError,
  type SessionLimitError,
  type SessionManager,
  type SessionManagerOptions,
  type SessionStore,
  type SessionStoreUnavailableError,
  sessionIdOf,
} from '../src/index.js'

describe('@safeguards/session public types', () => {
  test('the manager', () => {
    expectTypeOf(createSessionManager).parameter(0).toEqualTypeOf<SessionManagerOptions | undefined>()
    expectTypeOf(createSessionManager).returns.toEqualTypeOf<SessionManager>()
    expectTypeOf<SessionManager['create']>().parameters.toEqualTypeOf<
      [userId: string, options?: { role?: string | null; previousToken?: string | null }]
    >()
    expectTypeOf<SessionManager['create']>().returns.resolves.toEqualTypeOf<IssuedSession>()
    expectTypeOf<SessionManager['validate']>().returns.resolves.toEqualTypeOf<Session | null>()
    expectTypeOf<SessionManager['revokeAll']>().returns.resolves.toBeNumber()
    expectTypeOf<IssuedSession['token']>().toBeString()
  })
  test('options: one clock, core events', () => {
    expectTypeOf<SessionManagerOptions['clock']>().toEqualTypeOf<Clock | undefined>()
    expectTypeOf<SessionManagerOptions['events']>().toEqualTypeOf<
      EventSink | readonly EventSink[] | undefined
    >()
    expectTypeOf<SessionManagerOptions['onSinkError']>().toEqualTypeOf<
      ((error: unknown, event: SafeguardEvent) => void) | undefined
    >()
    expectTypeOf<SessionManagerOptions>().not.toHaveProperty('now')
    expectTypeOf<SessionManagerOptions>().not.toHaveProperty('onEvent')
  })
  test('stores, tokens, helpers', () => {
    expectTypeOf(createMemoryStore).returns.toEqualTypeOf<MemorySessionStore>()
    expectTypeOf<MemorySessionStore>().toMatchTypeOf<SessionStore>()
    expectTypeOf(sessionIdOf).parameter(0).toBeUnknown()
    expectTypeOf(sessionIdOf).returns.toEqualTypeOf<string | null>()
    expectTypeOf(generateToken).returns.toBeString()
    expectTypeOf(createIdleWatcher).returns.toEqualTypeOf<IdleWatcher>()
    expectTypeOf(createAccessTokens).toBeFunction()
  })
  test('error codes', () => {
    expectTypeOf<SessionConfigError['code']>().toEqualTypeOf<'ERR_SESSION_CONFIG'>()
    expectTypeOf<SessionStoreUnavailableError['code']>().toEqualTypeOf<'ERR_SESSION_STORE_UNAVAILABLE'>()
    expectTypeOf<SessionLimitError['code']>().toEqualTypeOf<'ERR_SESSION_LIMIT'>()
    expectTypeOf<SessionLimitError['max']>().toBeNumber()
    expectTypeOf<ReauthRequiredError['code']>().toEqualTypeOf<'ERR_SESSION_REAUTH_REQUIRED'>()
    expectTypeOf<ReauthRequiredError['maxAgeMs']>().toBeNumber()
  })
})
