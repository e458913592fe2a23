import type { AuditLog } from '@safeguards/audit-log'
import type * as http from '@safeguards/http'
import type { Resource } from '@safeguards/rbac'
import type { Session, SessionManager } from '@safeguards/session'
import express, { type Request, type RequestHandler } from 'express'
import { describe, expectTypeOf, it } from 'vitest'
import type { ErrorCodes } from '../../../scripts/test-support/error-codes.js'
import type * as api from '../src/index.js'
import { type RequestSafeguards, type Safeguards, type SafeguardsOptions, safeguards } from '../src/index.js'

declare const sessions: SessionManager
declare const log: AuditLog

describe('@safeguards/express public API', () => {
  it('builds a set of Express handlers from its options', () => {
    expectTypeOf(safeguards).parameter(0).toEqualTypeOf<SafeguardsOptions>()
    expectTypeOf(safeguards).returns.toEqualTypeOf<Safeguards>()
    expectTypeOf<Safeguards['middleware']>().returns.toEqualTypeOf<RequestHandler>()
    expectTypeOf<Safeguards['requireAccess']>().parameter(1).toEqualTypeOf<(req: Request) => Resource>()
    expectTypeOf<SafeguardsOptions['sessions']>().toEqualTypeOf<SessionManager>()
    expectTypeOf(log).toExtend<SafeguardsOptions['audit']['log']>()
    expectTypeOf<SafeguardsOptions['csrf']>().toEqualTypeOf<{ key: Uint8Array } | false>()
  })

  it('types req.session and req.safeguards in every handler (declaration merging)', () => {
    const app = express()
    app.get('/me', (req, res) => {
      expectTypeOf(req.session).toEqualTypeOf<Session | null | undefined>()
      expectTypeOf(req.safeguards).toEqualTypeOf<RequestSafeguards>()
      expectTypeOf(req.safeguards.signIn).returns.resolves.toEqualTypeOf<Session>()
      expectTypeOf(req.safeguards.rotate).returns.resolves.toEqualTypeOf<boolean>()
      res.json({})
    })
  })

  it('re-exports the http layer errors', () => {
    // exactly @safeguards/http's error classes (whose codes its own type test pins)
    expectTypeOf<ErrorCodes<typeof api>>().toEqualTypeOf<ErrorCodes<typeof http>>()
  })
})
