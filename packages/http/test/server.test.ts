import { startApp } from './support/app.js'
import { describeAdapterConformance } from './support/conformance.js'

// The reference node:http app: the suite every adapter runs (idle and throttle routes included).
// The reference app does not hand a poll's refusal to the audit (route and reason stay unset).
describeAdapterConformance('node:http reference', startApp, { pollsAuditReason: false, keepAliveCsrf: true })
