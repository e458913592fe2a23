/**
 * The public API's types, checked by Vitest typecheck (and by `tsc -p tsconfig.test.json`): a
 * breaking change to an exported signature fails CI here before a user's build does.
 */
import type { Clock, EventSink, SafeguardEvent } from '@safeguards/core'
import { describe, expectTypeOf, test } from 'vitest'
import { z } from 'zod'
import type { ErrorCodes } from '../../../scripts/test-support/error-codes.js'
import * as api from '../src/index.js'

describe('@safeguards/session public types', () => {
  test('the manager', () => {
    expectTypeOf(api.createSessionManager).parameter(0).toEqualTypeOf<api.SessionManagerOptions | undefined>()
    expectTypeOf(api.createSessionManager).returns.toEqualTypeOf<api.SessionManager>()
    expectTypeOf<api.SessionManager['create']>().parameters.toEqualTypeOf<
      [
        userId: string,
        options?: { role?: string | null; previousToken?: string | null; data?: unknown | undefined },
      ]
    >()
    expectTypeOf<api.SessionManager['create']>().returns.resolves.toEqualTypeOf<api.IssuedSession>()
    expectTypeOf<api.SessionManager['validate']>().returns.resolves.toEqualTypeOf<api.Session | null>()
    expectTypeOf<api.SessionManager['revokeAll']>().returns.resolves.toBeNumber()
    expectTypeOf<api.IssuedSession['token']>().toBeString()
  })
  test('session data: typed by the schema the app gives', () => {
    const schema = z.object({ tenant: z.string(), mfaAt: z.number().optional() })
    const sessions = api.createSessionManager({ data: { schema } })
    type Data = { tenant: string; mfaAt?: number | undefined }
    expectTypeOf(sessions).toEqualTypeOf<api.SessionManager<Data>>()
    expectTypeOf<api.Session<Data>['data']>().toEqualTypeOf<Data | undefined>()
    expectTypeOf(sessions.update).parameter(1).toEqualTypeOf<Data | undefined>()
    expectTypeOf(sessions.update).returns.resolves.toEqualTypeOf<api.Session<Data> | null>()
    expectTypeOf<api.SessionDataOf<typeof schema>>().toEqualTypeOf<Data>()
    expectTypeOf<api.SessionStore['update']>().toEqualTypeOf<
      ((id: string, data: string | undefined, now: number) => Promise<api.TouchResult>) | undefined
    >()
  })
  test('options: one clock, core events', () => {
    expectTypeOf<api.SessionManagerOptions['clock']>().toEqualTypeOf<Clock | undefined>()
    expectTypeOf<api.SessionManagerOptions['events']>().toEqualTypeOf<
      EventSink | readonly EventSink[] | undefined
    >()
    expectTypeOf<api.SessionManagerOptions['onSinkError']>().toEqualTypeOf<
      ((error: unknown, event: SafeguardEvent) => void) | undefined
    >()
    expectTypeOf<api.SessionManagerOptions>().not.toHaveProperty('now')
    expectTypeOf<api.SessionManagerOptions>().not.toHaveProperty('onEvent')
  })
  test('stores, tokens, helpers', () => {
    expectTypeOf(api.createMemoryStore).returns.toEqualTypeOf<api.MemorySessionStore>()
    expectTypeOf<api.MemorySessionStore>().toMatchTypeOf<api.SessionStore>()
    expectTypeOf(api.sessionIdOf).parameter(0).toBeUnknown()
    expectTypeOf(api.sessionIdOf).returns.toEqualTypeOf<string | null>()
    expectTypeOf(api.generateToken).returns.toBeString()
    expectTypeOf(api.createIdleWatcher).returns.toEqualTypeOf<api.IdleWatcher>()
    expectTypeOf(api.createAccessTokens).toBeFunction()
  })
  test('error codes', () => {
    expectTypeOf<ErrorCodes<typeof api>>().toEqualTypeOf<{
      SessionConfigError: 'ERR_SESSION_CONFIG'
      SessionStoreUnavailableError: 'ERR_SESSION_STORE_UNAVAILABLE'
      SessionLimitError: 'ERR_SESSION_LIMIT'
      ReauthRequiredError: 'ERR_SESSION_REAUTH_REQUIRED'
      SessionDataError: 'ERR_SESSION_DATA'
    }>()
    expectTypeOf<api.SessionLimitError['max']>().toBeNumber()
    expectTypeOf<api.ReauthRequiredError['maxAgeMs']>().toBeNumber()
  })
})
