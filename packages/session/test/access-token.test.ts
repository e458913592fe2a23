import { bytesToBase64url, manualClock, utf8Encode } from '@safeguards/core'
import { exportSPKI, generateKeyPair, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { createAccessTokens, createSessionManager, SessionConfigError } from '../src/index.js'

const T0 = Date.UTC(2026, 0, 1, 9)
const secret = new Uint8Array(32).fill(9)
const b64 = (o: unknown): string => bytesToBase64url(utf8Encode(JSON.stringify(o)))

function setup() {
  const clock = manualClock(T0)
  const sessions = createSessionManager({ clock })
  const tokens = createAccessTokens({
    sessions,
    keys: { alg: 'HS256', secret },
    issuer: 'https://clinic.example',
    audience: 'clinic-api',
  })
  return { clock, sessions, tokens }
}

describe('stateless access tokens (jose)', () => {
  it('issues a short-lived token bound to the session and verifies it', async () => {
    const { sessions, tokens } = setup()
    const { token, session } = await sessions.create('u-1')
    const issued = await tokens.issue(token)
    expect(issued?.expiresAt).toBe(T0 + 120_000)
    const claims = await tokens.verify(issued?.jwt)
    expect(claims).toMatchObject({ userId: 'u-1', sessionId: session.id, role: null, authAt: T0 })
    expect(issued?.jwt).not.toContain(token)
  })

  it('logout and revokeAll kill outstanding tokens at once', async () => {
    const { sessions, tokens } = setup()
    const a = await sessions.create('u-2')
    const b = await sessions.create('u-2')
    const ja = (await tokens.issue(a.token))!.jwt
    const jb = (await tokens.issue(b.token))!.jwt
    await sessions.revoke(a.token)
    expect(await tokens.verify(ja)).toBeNull()
    expect(await tokens.verify(jb)).not.toBeNull()
    await sessions.revokeAll('u-2')
    expect(await tokens.verify(jb)).toBeNull()
  })

  it('expires at its TTL, and never after the session deadline', async () => {
    const { clock, sessions, tokens } = setup()
    const { token } = await sessions.create('u-3')
    const j = (await tokens.issue(token))!.jwt
    clock.advance(120_000 - 1000)
    expect(await tokens.verify(j)).not.toBeNull()
    clock.advance(1000)
    expect(await tokens.verify(j)).toBeNull()
    // 14.5 minutes idle: the next token is cut to the idle deadline
    const late = await sessions.create('u-3')
    clock.advance(14 * 60_000 + 30_000)
    const near = await tokens.issue(late.token, { activity: false })
    expect(near?.expiresAt).toBe(late.session.idleExpiresAt)
    clock.set(late.session.idleExpiresAt)
    expect(await tokens.verify(near?.jwt)).toBeNull()
  })

  it('no token for a dead session or one ending within the second', async () => {
    const { clock, sessions, tokens } = setup()
    expect(await tokens.issue('nope')).toBeNull()
    clock.advance(300) // deadlines at .300 of a second
    const { token, session } = await sessions.create('u-4')
    clock.set(session.idleExpiresAt - 200)
    expect(await tokens.issue(token, { activity: false })).toBeNull()
  })

  it('refuses alg none, algorithm swaps, foreign keys, wrong typ/iss/aud, crit and garbage', async () => {
    const { sessions, tokens } = setup()
    const { session } = await sessions.create('u-5')
    const claims = {
      iss: 'https://clinic.example',
      aud: 'clinic-api',
      sub: 'u-5',
      sid: session.id,
      role: null,
      auth_time: T0 / 1000,
      iat: T0 / 1000,
      exp: T0 / 1000 + 60,
      jti: 'x',
    }
    const none = `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(claims)}.`
    expect(await tokens.verify(none)).toBeNull()
    const sign = (
      alg: string,
      key: Uint8Array,
      header: Record<string, unknown> = {},
      payload: Record<string, unknown> = claims,
    ) => new SignJWT(payload).setProtectedHeader({ alg, typ: 'at+jwt', ...header }).sign(key)
    expect(await tokens.verify(await sign('HS256', secret))).not.toBeNull() // the control
    expect(await tokens.verify(await sign('HS512', new Uint8Array(64).fill(9)))).toBeNull()
    expect(await tokens.verify(await sign('HS256', new Uint8Array(32).fill(8)))).toBeNull()
    expect(await tokens.verify(await sign('HS256', secret, { typ: 'JWT' }))).toBeNull()
    const { jti: _j, ...noJti } = claims
    for (const payload of [
      { ...claims, aud: 'other' },
      { ...claims, sid: 'zz' },
      { ...claims, role: 7 },
      noJti,
    ])
      expect(await tokens.verify(await sign('HS256', secret, {}, payload))).toBeNull()
    const crit = `${b64({ alg: 'HS256', typ: 'at+jwt', crit: ['x'], x: 1 })}.${b64(claims)}.AAAA`
    expect(await tokens.verify(crit)).toBeNull()
    for (const g of [undefined, 5, '', 'a.b.c', 'x'.repeat(5000), `${b64({ alg: 'HS256' })}.%%%.abc`])
      expect(await tokens.verify(g)).toBeNull()
  })

  it('refuses an HS256 token made with the ES256 public key (the algorithm swap)', async () => {
    const clock = manualClock(T0)
    const sessions = createSessionManager({ clock })
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
    const tokens = createAccessTokens({
      sessions,
      keys: { alg: 'ES256', publicKey, privateKey },
      issuer: 'i',
      audience: 'a',
    })
    const { token } = await sessions.create('u-6')
    const good = (await tokens.issue(token))!
    const claims = await tokens.verify(good.jwt)
    expect(claims?.userId).toBe('u-6')
    const pem = utf8Encode(await exportSPKI(publicKey))
    const [, payload] = good.jwt.split('.')
    const forged = await new SignJWT(
      JSON.parse(
        new TextDecoder().decode(
          Uint8Array.from(atob(payload!.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0)),
        ),
      ),
    )
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .sign(pem)
    expect(await tokens.verify(forged)).toBeNull()
    const verifyOnly = createAccessTokens({
      sessions,
      keys: { alg: 'ES256', publicKey },
      issuer: 'i',
      audience: 'a',
    })
    expect(await verifyOnly.verify(good.jwt)).not.toBeNull()
    await expect(verifyOnly.issue(token)).rejects.toBeInstanceOf(SessionConfigError)
  })

  it('validates its configuration', async () => {
    const sessions = createSessionManager()
    const { publicKey, privateKey } = await generateKeyPair('ES256')
    const base = { sessions, issuer: 'i', audience: 'a' }
    const bad = [
      { ...base, keys: { alg: 'HS256', secret: new Uint8Array(31) } },
      { ...base, keys: { alg: 'HS512', secret: new Uint8Array(32) } },
      { ...base, keys: { alg: 'none', secret } },
      { ...base, keys: { alg: 'RS256', secret } },
      { ...base, keys: { alg: 'ES256', publicKey: privateKey } },
      { ...base, keys: { alg: 'ES256', publicKey, privateKey: publicKey } },
      { ...base, keys: { alg: 'HS256', secret }, ttlSeconds: 301 },
      { ...base, keys: { alg: 'HS256', secret }, ttlSeconds: 0 },
      { ...base, keys: { alg: 'HS256', secret }, issuer: '' },
    ]
    for (const opts of bad) expect(() => createAccessTokens(opts as never)).toThrow(SessionConfigError)
  })
})
