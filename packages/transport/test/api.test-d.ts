/**
 * The public API's types, checked by Vitest typecheck (and by `tsc -p tsconfig.test.json`): the
 * options spread into node:tls, node:https and node:http2 without casts.
 */
import { createSecureServer, connect as h2connect } from 'node:http2'
import { createServer as createHttpsServer, request } from 'node:https'
import { connect, createServer } from 'node:tls'
import { describe, expectTypeOf, test } from 'vitest'
import type { ErrorCodes } from '../../../scripts/test-support/error-codes.js'
import * as api from '../src/index.js'

describe('@safeguards/transport public types', () => {
  test('server and client options fit node:tls, node:https and node:http2', () => {
    const server = api.tlsServerOptions({ key: '', cert: '' })
    createServer(server)
    createHttpsServer(server)
    createSecureServer({ ...server, allowHTTP1: false })
    createServer(api.mtlsServerOptions({ key: '', cert: '', clientCa: [''] }))
    const client = api.tlsClientOptions({ ca: '' })
    connect({ ...client, host: 'h', port: 1 })
    request({ ...client, host: 'h' })
    h2connect('https://h', client)
    connect({ ...api.mtlsClientOptions({ key: '', cert: new Uint8Array(), ca: '' }), port: 1 })
    api.createTicketKeyRotator().attach(createHttpsServer(server)).start().stop()
  })
  test('headers are a plain string record', () => {
    expectTypeOf(api.securityHeaders()).toEqualTypeOf<api.SecurityHeaders>()
    expectTypeOf<api.SecurityHeaders>().toExtend<Readonly<Record<string, string>>>()
  })
  test('checkTls', () => {
    expectTypeOf(api.checkTls).parameters.toEqualTypeOf<
      [host: string, port: number, options?: api.CheckTlsOptions]
    >()
    expectTypeOf(api.checkTls).returns.resolves.toEqualTypeOf<api.TlsCheckResult>()
    expectTypeOf<api.TlsCheckResult['verdict']>().toEqualTypeOf<'pass' | 'warn' | 'fail'>()
    expectTypeOf<api.TlsFinding['code']>().toEqualTypeOf<api.TlsFindingCode>()
    expectTypeOf<api.TlsCheckResult['protocols']['TLSv1.3']>().toEqualTypeOf<api.ProtocolStatus>()
    expectTypeOf<ErrorCodes<typeof api>>().toEqualTypeOf<{
      TransportError: api.TransportErrorCode
      TransportConfigError: 'ERR_TRANSPORT_CONFIG'
      TransportTargetError: 'ERR_TRANSPORT_TARGET'
      TransportUnreachableError: 'ERR_TRANSPORT_UNREACHABLE'
    }>()
  })
})
