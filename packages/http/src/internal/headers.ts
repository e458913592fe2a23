/**
 * Reading request headers from either a web `Headers` (Hono, fetch) or a Node header record
 * (Express, Fastify, node:http).
 *
 * @module
 */
import type { HeaderSource } from '../types.js'

/** One header's value, repeated fields joined with `sep`; `undefined` when absent. */
export function headerOf(headers: HeaderSource, name: string, sep = ', '): string | undefined {
  if (typeof (headers as Headers).get === 'function' && typeof (headers as Headers).has === 'function') {
    const v = (headers as Headers).get(name)
    return v === null ? undefined : v
  }
  const v = (headers as Readonly<Record<string, string | readonly string[] | undefined>>)[name]
  if (v === undefined) return undefined
  return typeof v === 'string' ? v : v.join(sep)
}
