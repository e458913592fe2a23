import type * as http from '@safeguards/http'
import type { Decision, Subject } from '@safeguards/rbac'
import type { Session } from '@safeguards/session'
import Fastify from 'fastify'
import { describe, expectTypeOf, it } from 'vitest'
import type { ErrorCodes } from '../../../scripts/test-support/error-codes.js'
import type * as api from '../src/index.js'
import '../src/index.js'

describe('declaration merging', () => {
  it('types the request and reply additions', () => {
    const app = Fastify()
    app.get<{ Params: { patient: string } }>(
      '/p/:patient',
      {
        onRequest: app.requireSession,
        preHandler: app.requireAccess<{ Params: { patient: string } }>('read', (request) => {
          expectTypeOf(request.params.patient).toEqualTypeOf<string>()
          return { resource: { type: 'Observation', tenant: 't', patient: request.params.patient } }
        }),
        config: { sessionActivity: false },
      },
      async (request, reply) => {
        expectTypeOf(request.session).toEqualTypeOf<Session<unknown> | null>()
        expectTypeOf(request.subject).toEqualTypeOf<Subject | null>()
        expectTypeOf(request.decision).toEqualTypeOf<Decision | null>()
        expectTypeOf(reply.signIn).returns.toEqualTypeOf<Promise<Session<unknown>>>()
        expectTypeOf(reply.throttleSignIn).returns.toEqualTypeOf<Promise<boolean>>()
        return {}
      },
    )
  })
})

describe('error codes', () => {
  it('re-exports the http layer errors', () => {
    // exactly @safeguards/http's error classes (whose codes its own type test pins)
    expectTypeOf<ErrorCodes<typeof api>>().toEqualTypeOf<ErrorCodes<typeof http>>()
  })
})
