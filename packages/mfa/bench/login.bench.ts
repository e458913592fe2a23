import { createPasswordHasher } from '@safeguards/password'
import argon2 from 'argon2'
import type { Scenario } from '../../../scripts/bench/types.ts'
import {
  createAesGcmSealer,
  createMemoryStore,
  createTotpAuthenticator,
  secretFromBase32,
  totpCode,
} from '../src/index.js'

const MiB = 1024 * 1024

/** Peak RSS (MiB) while `work` runs, sampled every 2 ms. */
let maxActive = 0
async function peakRss(work: () => Promise<unknown>): Promise<number> {
  let peak = process.memoryUsage.rss()
  maxActive = 0
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss())
    maxActive = Math.max(maxActive, hasher.load.active)
  }, 2)
  try {
    await work()
  } finally {
    clearInterval(timer)
  }
  return Math.max(peak, process.memoryUsage.rss()) / MiB
}

const hasher = createPasswordHasher()
const USERS = 50
const users: { id: string; hash: string; password: string; secret: Uint8Array }[] = []
let mfa: ReturnType<typeof createTotpAuthenticator>
let t = Date.UTC(2026, 10, 22, 9, 0, 1)
const clock = { now: () => t }

const scenarios: Scenario[] = [
  {
    name: '50 concurrent logins (password, then one-time code), peak RSS',
    unit: 'MiB',
    lowerIsBetter: true,
    async setup() {
      mfa = createTotpAuthenticator({
        store: createMemoryStore({ clock }),
        sealer: await createAesGcmSealer(new Uint8Array(32).fill(3)),
        issuer: 'Bench Clinic',
        clock,
      })
      for (let u = 0; u < USERS; u++) {
        const password = `user ${u} long passphrase here`
        const e = await mfa.beginEnrollment(`u${u}`, `u${u}@example.org`)
        const secret = secretFromBase32(e.manualKey.reveal())
        await mfa.confirmEnrollment(`u${u}`, e.credentialId, totpCode({ secret, time: t }))
        users.push({ id: `u${u}`, hash: await hasher.hash(password), password, secret })
      }
      global.gc?.()
    },
    ours: {
      name: '@safeguards/password verify (capped) + @safeguards/mfa verify',
      measure: async () => {
        t += 30_000
        const mib = await peakRss(() =>
          Promise.all(
            users.map(async (u) => {
              const p = await hasher.verify(u.hash, u.password)
              const m = await mfa.verify(u.id, totpCode({ secret: u.secret, time: t }))
              if (!p.valid || !m.valid) throw new Error('bench: login failed')
            }),
          ),
        )
        return { value: mib, extra: { 'argon2 at once': String(maxActive) } }
      },
    },
    anchor: {
      name: 'bare argon2.verify ×50 (no cap, libuv pool only)',
      measure: async () => {
        const mib = await peakRss(() => Promise.all(users.map((u) => argon2.verify(u.hash, u.password))))
        return { value: mib }
      },
    },
    target: { value: 300, text: '< 300 MiB RSS' },
  },
]
export default scenarios
