/**
 * The minimal request shape the neutral core reads.
 *
 * @module
 */

/**
 * Request headers: a web `Headers` (Hono, fetch) or a Node header record with lower-case names
 * (`req.headers` in Express, Fastify and node:http).
 */
export type HeaderSource = Headers | Readonly<Record<string, string | readonly string[] | undefined>>
