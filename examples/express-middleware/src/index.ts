export type { ClinicDeps } from './app.js'
export { createClinicApp } from './app.js'
