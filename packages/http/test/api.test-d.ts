import type { Decision } from '@safeguards/rbac'
import type { Session, SessionManager } from '@safeguards/session'
import { describe, expectTypeOf, it } from 'vitest'
import type { ErrorCodes } from '../../../scripts/test-support/error-codes.js'
import type * as api from '../src/index.js'
import {
  type AccessOutcome,
  type CookieRead,
  type Csrf,
  type CsrfResult,
  checkAccess,
  createCsrf,
  createMemoryThrottleStore,
  createRequestAudit,
  createSignInThrottle,
  type HttpErrorCode,
  type HttpRefusal,
  type HttpReply,
  type IssuedCookie,
  idleStatus,
  keepAlive,
  type RefusalReason,
  readCookie,
  refusal,
  resolveSession,
  type SessionOutcome,
  type SessionRefusalReason,
  type SignInThrottle,
  signIn,
  type ThrottleOutcome,
  type ThrottleStore,
} from '../src/index.js'

declare const manager: SessionManager<{ theme: string }>

describe('@safeguards/http public API', () => {
  it('sessions: the outcome carries the typed session or a refusal with its reason', () => {
    expectTypeOf(resolveSession(manager, {})).resolves.toEqualTypeOf<SessionOutcome<{ theme: string }>>()
    type Ok = Extract<SessionOutcome<{ theme: string }>, { ok: true }>
    type No = Extract<SessionOutcome<{ theme: string }>, { ok: false }>
    expectTypeOf<Ok['session']>().toEqualTypeOf<Session<{ theme: string }>>()
    expectTypeOf<No['reason']>().toEqualTypeOf<SessionRefusalReason>()
    expectTypeOf<No['reply']>().toEqualTypeOf<HttpRefusal>()
    expectTypeOf(signIn(manager, 'u-1', {})).resolves.toEqualTypeOf<IssuedCookie<{ theme: string }>>()
    expectTypeOf(idleStatus(manager, {})).resolves.toEqualTypeOf<HttpReply>()
    expectTypeOf(keepAlive(manager, new Headers())).resolves.toEqualTypeOf<HttpReply>()
  })

  it('access: a denial carries the decision, a reason and the reply', () => {
    expectTypeOf(checkAccess).returns.toEqualTypeOf<AccessOutcome>()
    type Denied = Extract<AccessOutcome, { ok: false }>
    expectTypeOf<Denied['decision']>().toEqualTypeOf<Decision>()
    expectTypeOf<Denied['reason']>().toEqualTypeOf<RefusalReason>()
    expectTypeOf(refusal).returns.toEqualTypeOf<HttpRefusal>()
  })

  it('CSRF, cookies, throttle and audit keep their shapes', () => {
    expectTypeOf(createCsrf).parameter(0).toEqualTypeOf<Uint8Array>()
    expectTypeOf(createCsrf).returns.toEqualTypeOf<Csrf>()
    expectTypeOf<Csrf['verify']>().returns.toEqualTypeOf<CsrfResult>()
    expectTypeOf(readCookie).returns.toEqualTypeOf<CookieRead>()
    expectTypeOf(createSignInThrottle).returns.toEqualTypeOf<SignInThrottle>()
    expectTypeOf(createMemoryThrottleStore).returns.toEqualTypeOf<ThrottleStore>()
    expectTypeOf<SignInThrottle['attempt']>().returns.resolves.toEqualTypeOf<ThrottleOutcome>()
    expectTypeOf(createRequestAudit).returns.toHaveProperty('finish')
    expectTypeOf<
      ReturnType<typeof createRequestAudit>['finish']
    >().returns.resolves.toEqualTypeOf<HttpRefusal | null>()
  })

  it('error codes', () => {
    expectTypeOf<ErrorCodes<typeof api>>().toEqualTypeOf<{
      HttpError: HttpErrorCode
      HttpConfigError: 'ERR_HTTP_CONFIG'
      HttpThrottleStoreError: 'ERR_HTTP_THROTTLE_STORE'
    }>()
  })
})
