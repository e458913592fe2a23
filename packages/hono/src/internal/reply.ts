/** Turning the core's plain replies into Hono responses, and refusing with a reason. */
import type { HttpReply, RefusalReason } from '@safeguards/http'
import type { Context } from 'hono'

/** The `HttpReply` as a `Response` (the body dropped for the statuses that have none). */
export function toResponse(reply: HttpReply): Response {
  const empty = reply.status === 204 || reply.status === 304 || reply.body === ''
  return new Response(empty ? null : reply.body, { status: reply.status, headers: reply.headers })
}

/** Records why the request was refused (for the audit record) and answers with the refusal. */
export function refuse(c: Context, reason: RefusalReason, reply: HttpReply): Response {
  c.set('refused', reason)
  return toResponse(reply)
}
