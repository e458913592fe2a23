/** The Fastify test app with the http package's fixtures, for this package's own tests. */
import * as fixtures from '../../../http/test/support/fixtures.js'
import { type FastifyTestApp, startFastifyApp } from './fastify-app.js'

export { CSRF_COOKIE } from '@safeguards/http'
export * from '../../../http/test/support/fixtures.js'
export type { FastifyTestApp } from './fastify-app.js'

export const startApp = (options?: Parameters<typeof startFastifyApp>[1]): Promise<FastifyTestApp> =>
  startFastifyApp(fixtures, options)
