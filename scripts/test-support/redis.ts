/**
 * Shared by the Redis test suites (session-redis, rbac): a client whose script cache looks flushed.
 */

/** The one method the Redis stores use (structurally both stores' client types). */
export interface CommandClient {
  sendCommand(args: ReadonlyArray<string>): Promise<unknown>
}

/**
 * A client in front of `redis` on which each script's first EVALSHA fails with NOSCRIPT, as after
 * SCRIPT FLUSH or a failover; `flushed` holds the SHA-1s it refused, once each.
 */
export function scriptCacheFlushed(redis: CommandClient): { client: CommandClient; flushed: Set<string> } {
  const flushed = new Set<string>()
  const client: CommandClient = {
    sendCommand: (args) => {
      if (args[0] === 'EVALSHA' && !flushed.has(args[1] as string)) {
        flushed.add(args[1] as string)
        return Promise.reject(new Error('NOSCRIPT No matching script.'))
      }
      return redis.sendCommand(args)
    },
  }
  return { client, flushed }
}
