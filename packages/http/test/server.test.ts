import { startApp } from './support/app.js'
import { describeAdapterConformance } from './support/conformance.js'

// The reference node:http app: the suite every adapter runs (idle and throttle routes included).
describeAdapterConformance('node:http reference', startApp)
