export type { SafeguardsLocals } from './middleware.js'
export { auditRequests, readCookie, requireAccess, requireSession } from './middleware.js'
