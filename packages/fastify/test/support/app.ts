/** The Fastify test app with the http package's fixtures, for this package's own tests. */
import { type FastifyTestApp, startFastifyApp } from './fastify-app.js'

export { CSRF_COOKIE } from '@safeguards/http'
export * from '../../../http/test/support/fixtures.js'
export type { FastifyTestApp } from './fastify-app.js'

export const startApp = (options?: Parameters<typeof startFastifyApp>[0]): Promise<FastifyTestApp> =>
  startFastifyApp(options)
