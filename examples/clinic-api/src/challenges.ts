/**
 * Pending second factors (challenge → user, single use, with an expiry): in memory for one
 * instance, or in Redis so that the password step on one instance is finished on another.
 */
import { createClient } from '@redis/client'
import { bytesToHex, type Clock, sha256, utf8Encode } from '@safeguards/core'

/** Pending second factors: challenge → user, single use, with an expiry. */
export interface ChallengeStore {
  put(challenge: string, userId: string, ttlMs: number): Promise<void>
  /** The user of a live challenge, consuming it; null when unknown, used or expired. */
  take(challenge: string): Promise<string | null>
}

/** Challenges in this process only. */
export function memoryChallenges(clock: Clock): ChallengeStore {
  const map = new Map<string, { userId: string; expiresAt: number }>()
  return {
    async put(challenge, userId, ttlMs) {
      map.set(challenge, { userId, expiresAt: clock.now() + ttlMs })
    },
    async take(challenge) {
      const c = map.get(challenge)
      map.delete(challenge)
      return c === undefined || c.expiresAt <= clock.now() ? null : c.userId
    },
  }
}

/** Connects a Redis client. */
export const connectRedis = (url: string) => createClient({ url }).connect()
/** A connected Redis client. */
export type RedisClient = Awaited<ReturnType<typeof connectRedis>>

/** Challenges in Redis: the password step on one instance, the TOTP step on another. */
export function redisChallenges(redis: RedisClient, prefix: string): ChallengeStore {
  // The key is a hash of the challenge: the bearer value itself is never stored.
  const key = (c: string): string => `${prefix}${bytesToHex(sha256(utf8Encode(c)))}`
  return {
    async put(challenge, userId, ttlMs) {
      await redis.set(key(challenge), userId, { expiration: { type: 'PX', value: ttlMs }, condition: 'NX' })
    },
    async take(challenge) {
      if (!/^[0-9a-f]{64}$/.test(challenge)) return null
      const v = await redis.getDel(key(challenge))
      return typeof v === 'string' ? v : null
    },
  }
}
