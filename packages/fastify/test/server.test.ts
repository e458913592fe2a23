import { describeAdapterConformance } from '../../http/test/support/conformance.js'
import { startApp } from './support/app.js'

// Fastify appends its own directives to the 404's Cache-Control; the keep-alive is a CSRF-protected POST.
describeAdapterConformance('fastify', startApp, {
  cacheControl: /^no-store/,
  keepAliveCsrf: true,
})
