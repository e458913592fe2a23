/**
 * The one place that calls the `argon2` N-API addon (the reference C implementation of RFC 9106).
 * Everything is passed as `Uint8Array`; the addon accepts them as is.
 */
import argon2 from 'argon2'

/** Raw Argon2 inputs, named as in RFC 9106 §3.1. */
export interface Argon2Input {
  type: 'argon2d' | 'argon2i' | 'argon2id'
  version: number
  password: Uint8Array
  salt: Uint8Array
  /** K, the secret value (our pepper); empty when absent. */
  secret?: Uint8Array
  /** X, associated data; empty when absent. */
  associatedData?: Uint8Array
  memoryCost: number
  timeCost: number
  parallelism: number
  hashLength: number
}

const TYPES = { argon2d: 0, argon2i: 1, argon2id: 2 } as const

/** Computes the raw Argon2 tag. */
export async function argon2Raw(input: Argon2Input): Promise<Uint8Array> {
  const out = await argon2.hash(input.password as never, {
    raw: true,
    type: TYPES[input.type],
    version: input.version,
    salt: input.salt as never,
    ...(input.secret && input.secret.length > 0 ? { secret: input.secret as never } : {}),
    ...(input.associatedData && input.associatedData.length > 0
      ? { associatedData: input.associatedData as never }
      : {}),
    memoryCost: input.memoryCost,
    timeCost: input.timeCost,
    parallelism: input.parallelism,
    hashLength: input.hashLength,
  })
  // Copy into a plain Uint8Array so no Buffer escapes into library code.
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength).slice()
}
