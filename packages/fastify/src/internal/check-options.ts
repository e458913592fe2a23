/**
 * The plugin's option check, run once at registration: unknown names, required options missing or
 * of the wrong type. The packages the options are handed to check their own values.
 *
 * @module
 */
import { HttpConfigError } from '@safeguards/http'
import type { SafeguardsOptions } from '../options.js'

const KNOWN = new Set([
  'sessions',
  'pdp',
  'subject',
  'log',
  'observer',
  'pseudonymize',
  'onAuditError',
  'csrfKey',
  'csrf',
  'cookie',
  'throttle',
  'headers',
  'idleRoutes',
  'emergencyHeader',
  'fulfils',
  'clock',
])

/**
 * Checks the options' shape (the packages they are handed to check their own values).
 *
 * @throws {HttpConfigError} for an unknown option or a missing or malformed required one.
 */
export function checkOptions(options: SafeguardsOptions): void {
  if (typeof options !== 'object' || options === null)
    throw new HttpConfigError('"options" expected an object')
  for (const k of Object.keys(options))
    if (!KNOWN.has(k) && k !== 'prefix' && k !== 'logLevel')
      throw new HttpConfigError(`unknown option "${k}"`)
  const need: [keyof SafeguardsOptions, string][] = [
    ['sessions', 'object'],
    ['pdp', 'object'],
    ['subject', 'function'],
    ['log', 'object'],
    ['observer', 'string'],
  ]
  for (const [k, type] of need)
    if (typeof options[k] !== type || options[k] === null)
      throw new HttpConfigError(`"${k}" expected a ${type === 'function' ? 'function' : type}`)
  if (!(options.csrfKey instanceof Uint8Array))
    throw new HttpConfigError('"csrfKey" expected a Uint8Array of at least 32 bytes')
}
