import type * as http from '@safeguards/http'
import type { RefusalReason } from '@safeguards/http'
import type { Session, SessionManager } from '@safeguards/session'
import { Hono } from 'hono'
import { expectTypeOf, test } from 'vitest'
import type { ErrorCodes } from '../../../scripts/test-support/error-codes.js'
import type * as api from '../src/index.js'
import { type AccessFacts, type SafeguardsEnv, type SafeguardsVariables, session } from '../src/index.js'

test('c.var.session, c.var.access and c.var.refused are typed in a SafeguardsEnv app', () => {
  const app = new Hono<SafeguardsEnv<{ tenant: string }>>()
  const manager = {} as SessionManager<{ tenant: string }>
  app.use(session(manager))
  app.get('/', (c) => {
    expectTypeOf(c.var.session).toEqualTypeOf<Session<{ tenant: string }>>()
    expectTypeOf(c.var.access).toEqualTypeOf<AccessFacts>()
    expectTypeOf(c.var.refused).toEqualTypeOf<RefusalReason>()
    return c.text('ok')
  })
})

test('the variables merge into an app of its own', () => {
  const app = new Hono<{ Variables: SafeguardsVariables & { user: { id: string } } }>()
  app.get('/', (c) => {
    expectTypeOf(c.get('session')).toEqualTypeOf<Session<unknown>>()
    expectTypeOf(c.get('user')).toEqualTypeOf<{ id: string }>()
    return c.text('ok')
  })
})

test('error codes: the http layer errors, re-exported', () => {
  // exactly @safeguards/http's error classes (whose codes its own type test pins)
  expectTypeOf<ErrorCodes<typeof api>>().toEqualTypeOf<ErrorCodes<typeof http>>()
})
