/**
 * The signature of the SDK's alert webhooks: `X-Safeguards-Signature: v1=<hex HMAC-SHA256(secret,
 * timestamp + "." + body)>` beside `X-Safeguards-Timestamp: <unix seconds>` (the scheme Stripe and
 * GitHub use: the timestamp is signed, so a captured request cannot be replayed later). Pure, so a
 * receiver in any runtime can check it.
 *
 * @module
 */
import { bytesToHex, utf8Encode } from './bytes.js'
import { hmac } from './hash.js'
import { timingSafeEqual } from './timing-safe-equal.js'

/**
 * The `X-Safeguards-Signature` value for `body` sent at `timestamp` (unix seconds, as text).
 *
 * HIPAA: 164.312(c)(2) mechanism to authenticate (the receiver can tell an alert came from us).
 *
 * @throws {TypeError} when `secret` is not a Uint8Array.
 * @example
 * ```ts
 * const header = webhookSignature(secret, '1767225600', '{"status":"failed"}') // 'v1=9f…'
 * ```
 */
export function webhookSignature(secret: Uint8Array, timestamp: string, body: string): string {
  return `v1=${bytesToHex(hmac('sha256', secret, utf8Encode(`${timestamp}.${body}`)))}`
}

/**
 * Verifies a webhook alert on the receiving side: recomputes the HMAC over `timestamp.body` and
 * compares in constant time; rejects timestamps further than `toleranceMs` from `nowMs` (replay).
 *
 * HIPAA: 164.312(c)(2) mechanism to authenticate; 164.308(a)(1)(ii)(D) (alerts that reach staff).
 *
 * @returns true only for a valid, fresh signature; never throws for bad headers.
 * @example
 * ```ts
 * verifyWebhookSignature(secret, req.headers['x-safeguards-timestamp'], req.headers['x-safeguards-signature'], rawBody, Date.now())
 * ```
 */
export function verifyWebhookSignature(
  secret: Uint8Array,
  timestamp: string | undefined,
  signature: string | undefined,
  body: string,
  nowMs: number,
  toleranceMs: number = 5 * 60_000,
): boolean {
  if (typeof timestamp !== 'string' || typeof signature !== 'string' || !/^\d{1,12}$/.test(timestamp))
    return false
  if (Math.abs(nowMs - Number(timestamp) * 1000) > toleranceMs) return false
  return timingSafeEqual(utf8Encode(webhookSignature(secret, timestamp, body)), utf8Encode(signature))
}
