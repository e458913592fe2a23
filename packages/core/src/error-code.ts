/**
 * The `code` of a thrown value: Node's system errors (`ENOENT`, `EACCES`…), Node's own `ERR_*`
 * errors and SDK errors all carry one. One helper instead of `(e as { code?: string }).code` casts.
 *
 * @module
 */

/**
 * Returns `error.code` when `error` is an object with a string `code`, otherwise `undefined`.
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises'
 * import { errorCode } from '@safeguards/core/node'
 *
 * const text = await readFile('/etc/app.json', 'utf8').catch((e: unknown) => {
 *   if (errorCode(e) === 'ENOENT') return '{}'
 *   throw e
 * })
 * ```
 */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' ? code : undefined
}
