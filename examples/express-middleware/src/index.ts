export type { SafeguardsLocals } from './middleware.js'
export {
  auditRequests,
  readCookie,
  requestRecord,
  requireAccess,
  requireSession,
  SOURCE,
} from './middleware.js'
