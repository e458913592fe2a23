/**
 * Stage 5, `decryptability`: with a cipher, every selected encrypted payload file decrypts and
 * authenticates under its own bag id and path (so a ciphertext moved to another path or bag
 * fails). Manifests hash the ciphertext, so the earlier stages need no key.
 *
 * @module
 */
import { join } from 'node:path'
import { payloadContext } from '../../payload-cipher.js'
import type { VerifyOptions } from '../../verify-options.js'
import { openWalked, readWalked } from '../safe-open.js'
import { streamThrough } from '../stream-file.js'
import { bagIdOf, type Ctx, isEncrypted, type Run } from './run.js'

/** Runs the `decryptability` stage over `ctx.selected`. */
export async function decryptStage(
  ctx: Ctx,
  run: Run,
  options: VerifyOptions,
): Promise<'passed' | 'skipped'> {
  if (!isEncrypted(ctx)) return 'skipped'
  if (!options.cipher) {
    run.add('W_DECRYPTABILITY_UNCHECKED')
    return 'skipped'
  }
  const bagId = bagIdOf(ctx) ?? ''
  const max = options.maxDecryptBytes ?? 1024 * 1024 * 1024
  const cipher = options.cipher
  for (const m of ctx.selected) {
    const context = payloadContext(bagId, m.key)
    const path = join(ctx.root, m.entry.path)
    if (!cipher.decryptStream && m.entry.size > max) {
      run.add('E_NOT_DECRYPTABLE', m.key, 'too large for the cipher')
      continue
    }
    try {
      if (cipher.decryptStream)
        await streamThrough(await openWalked(path, m.entry), null, cipher.decryptStream(context))
      else await cipher.decrypt(await readWalked(path, m.entry), context)
    } catch {
      run.add('E_NOT_DECRYPTABLE', m.key)
    }
  }
  return 'passed'
}
