/**
 * Sign-in (a password, then a TOTP code), the session check on every `/api/*` request, and
 * logout. The password hasher, the TOTP verifier and the session manager record each step
 * themselves (`auth.*` and `session.*` events, given the critical audit sink in `clinic.ts`:
 * 110114 User Authentication with 110122 Login or 110123 Logout in the log).
 */
import { bytesToHex, randomBytes } from '@safeguards/core'
import { session } from '@safeguards/hono'
import type { ClinicApp, ClinicServices } from '../context.js'
import { MIN, STAFF } from '../staff.js'

const byUsername = new Map(STAFF.map((s) => [s.username, s]))
const byId = new Map(STAFF.map((s) => [s.id, s]))

/** The bearer token of an `Authorization` header, or null. */
export const bearer = (h: string | undefined): string | null =>
  h?.startsWith('Bearer ') === true ? h.slice(7) : null

/** Mounts `POST /login`, `POST /login/totp`, the `/api/*` session check and `POST /api/logout`. */
export function mountAuthRoutes(app: ClinicApp, s: ClinicServices): void {
  app.post('/login', async (c) => {
    const body = (await c.req.json().catch(() => null)) as { username?: unknown; password?: unknown } | null
    const username = typeof body?.username === 'string' ? body.username : ''
    const password = typeof body?.password === 'string' ? body.password : ''
    const user = byUsername.get(username)
    const stored = user ? s.verifiers.get(username) : undefined
    // An unknown user costs the same argon2id work as a known one (no user enumeration by timing),
    // and is recorded too (a failed sign-in, `unknown-account`), under a pseudonym of the name typed.
    let ok = false
    if (stored && user) ok = (await s.hasher.verify(stored, password, { actor: user.id })).valid
    else await s.hasher.dummyVerify(password, { actor: s.unknownAccount(username) })
    if (!ok || !user) return c.json({ error: 'invalid_credentials' }, 401)
    const challenge = bytesToHex(randomBytes(32))
    await s.challenges.put(challenge, user.id, 5 * MIN)
    return c.json({ mfaRequired: true, challenge })
  })

  app.post('/login/totp', async (c) => {
    const body = (await c.req.json().catch(() => null)) as { challenge?: unknown; code?: unknown } | null
    const challenge = typeof body?.challenge === 'string' ? body.challenge : ''
    const code = typeof body?.code === 'string' ? body.code : ''
    const userId = challenge === '' ? null : await s.challenges.take(challenge)
    const user = userId === null ? undefined : byId.get(userId)
    if (!user) return c.json({ error: 'invalid_challenge' }, 401)
    const r = await s.totp.verify(`totp-${user.id}`, s.totpSecrets.get(user.id)!, code, {
      throttleKey: user.id,
      actor: user.id,
    })
    if (!r.valid) return c.json({ error: 'invalid_code', reason: r.reason }, 401)
    const { token, session } = await s.sessions.create(user.id, { role: user.role })
    return c.json({ token, role: user.role, idleExpiresAt: session.idleExpiresAt })
  })

  // Everything below needs a live session (`@safeguards/hono`: the bearer token the API clients
  // hold; 401 with the reason it ended, 503 when the store is down); a real request moves the idle
  // deadline. Then the staff member of the session.
  app.use('/api/*', session(s.sessions, { from: 'authorization' }), async (c, next) => {
    c.set('user', byId.get(c.var.session.userId)!)
    return next()
  })

  app.post('/api/logout', async (c) => {
    await s.sessions.revoke(bearer(c.req.header('authorization')))
    return c.json({ ok: true })
  })
}
