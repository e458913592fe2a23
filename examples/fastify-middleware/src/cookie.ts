/**
 * The session cookie, without a cookie plugin: one value read from the `Cookie` header, and the
 * `Set-Cookie` values that issue and clear it. `__Host-` cookies are `Secure`, `Path=/` and have
 * no `Domain` (RFC 6265bis §4.1.3.2), so no subdomain can set or read them.
 */

/** Reads one cookie from the `Cookie` header; `undefined` when it is absent or empty. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined
  }
  return undefined
}

/**
 * The `Set-Cookie` value for a session token: `HttpOnly` (no script access), `Secure`,
 * `SameSite=Strict`, `Path=/`, and no `Max-Age`, so the browser drops it when it closes; the
 * server-side idle and absolute deadlines are what end the session.
 */
export function sessionCookie(name: string, token: string): string {
  return `${name}=${token}; Path=/; HttpOnly; Secure; SameSite=Strict`
}

/** The `Set-Cookie` value that removes the session cookie. */
export function clearedSessionCookie(name: string): string {
  return `${name}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0`
}
