/**
 * A real local HTTP server that records what webhooks POST to it (headers and body) and answers
 * with the statuses queued in `answers` (204 when none; a 302 carries a `location`). For the alert
 * tests of `@safeguards/core` and `@safeguards/cli`.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll } from 'vitest'

/** One request the receiver took. */
export interface Received {
  path: string
  headers: IncomingHttpHeaders
  body: string
}

/** A running receiver. */
export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>` */
  base: string
  received: Received[]
  /** Statuses for the next requests, in order. */
  answers: number[]
  close(): Promise<void>
}

/** Starts a receiver on a free port of 127.0.0.1. */
export async function startWebhookReceiver(
  received: Received[] = [],
  answers: number[] = [],
): Promise<WebhookReceiver> {
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Uint8Array) => {
      body += new TextDecoder().decode(c)
    })
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body })
      const status = answers.shift() ?? 204
      if (status === 302) res.setHeader('location', '/elsewhere')
      res.statusCode = status
      res.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    answers,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/**
 * A receiver for the whole test file: started before its tests, closed after them. `received` and
 * `answers` are the same arrays throughout; `url(path)` works once the tests run.
 */
export function useWebhookReceiver(): { received: Received[]; answers: number[]; url(path: string): string } {
  const received: Received[] = []
  const answers: number[] = []
  let receiver: WebhookReceiver | undefined
  beforeAll(async () => {
    receiver = await startWebhookReceiver(received, answers)
  })
  afterAll(() => receiver?.close())
  return { received, answers, url: (path) => `${receiver?.base}${path}` }
}
