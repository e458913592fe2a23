export type { ClinicOptions } from './app.js'
export { buildApp } from './app.js'
