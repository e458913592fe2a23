import { createCipheriv, createDecipheriv, randomBytes as nodeRandom } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { manualClock } from '@safeguards/core'
import { afterAll } from 'vitest'
import {
  type CreateBagOptions,
  createBag,
  generateSigningKeyPair,
  importSigningKey,
  importVerificationKeys,
  type PayloadCipher,
  type SigningKey,
  type VerificationKey,
} from '../src/index.js'

const require = createRequire(import.meta.url)

const roots: string[] = []
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true })
})

/** A fresh temporary directory, removed after the file's tests. */
export function tempDir(label = 'bk'): string {
  const d = mkdtempSync(join(tmpdir(), `sg-backup-${label}-`))
  roots.push(d)
  return d
}

/** Writes files (relative path → content) under `root`. */
export function writeTree(root: string, files: Record<string, string | Uint8Array>): void {
  for (const [rel, content] of Object.entries(files)) {
    const p = join(root, rel)
    mkdirSync(dirname(p), { recursive: true })
    writeFileSync(p, content)
  }
}

export const T0 = Date.UTC(2026, 10, 22, 2, 0, 0)

let cached: { signingKey: SigningKey; publicKeys: VerificationKey[] } | undefined
/** An Ed25519 key pair (cached per test file). */
export async function keys(): Promise<{ signingKey: SigningKey; publicKeys: VerificationKey[] }> {
  if (!cached) {
    const { privateJwk, publicJwk } = await generateSigningKeyPair('EdDSA', 'backup-test-1')
    cached = {
      signingKey: await importSigningKey(privateJwk),
      publicKeys: await importVerificationKeys(publicJwk),
    }
  }
  return cached
}

/** A small source tree and a signed bag of it. */
export async function signedBag(
  files: Record<string, string | Uint8Array> = {
    'db/dump.sql': 'CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n',
    'notes/readme.txt': 'nightly export\n',
    'empty.bin': new Uint8Array(0),
  },
  options: CreateBagOptions = {},
): Promise<{
  bag: string
  src: string
  publicKeys: VerificationKey[]
  signingKey: SigningKey
  attestation: string
}> {
  const { signingKey, publicKeys } = await keys()
  const root = tempDir()
  const src = join(root, 'src')
  writeTree(src, files)
  const bag = join(root, 'bag')
  const result = await createBag(src, bag, { signingKey, clock: manualClock(T0), concurrency: 2, ...options })
  return { bag, src, publicKeys, signingKey, attestation: result.attestation as string }
}

/**
 * A test PayloadCipher with the shape of @safeguards/envelope's object: AES-256-GCM under one key,
 * the context bound as additional authenticated data.
 */
export function testCipher(key: Uint8Array = nodeRandom(32)): PayloadCipher {
  const aad = (context: Record<string, string>): Uint8Array =>
    new TextEncoder().encode(JSON.stringify(Object.entries(context).sort()))
  return {
    async encrypt(plaintext, context) {
      const iv = nodeRandom(12)
      const c = createCipheriv('aes-256-gcm', key, iv)
      c.setAAD(aad(context))
      const body = Buffer.concat([c.update(plaintext), c.final()])
      return new Uint8Array(Buffer.concat([iv, body, c.getAuthTag()]))
    },
    async decrypt(ciphertext, context) {
      const ct = Buffer.from(ciphertext)
      const d = createDecipheriv('aes-256-gcm', key, ct.subarray(0, 12))
      d.setAAD(aad(context))
      d.setAuthTag(ct.subarray(ct.length - 16))
      return new Uint8Array(Buffer.concat([d.update(ct.subarray(12, ct.length - 16)), d.final()]))
    },
  }
}

/** Error codes of a report. */
export function codes(report: { findings: { code: string; severity: string }[] }): string[] {
  return report.findings.filter((f) => f.severity === 'error').map((f) => f.code)
}

/**
 * What an attacker with write access and standard bag tools does after tampering: recompute
 * every payload manifest and tag manifest so the bag is BagIt-valid again (but the attestation,
 * which they cannot re-sign, is left as it was).
 */
export function rewriteManifests(bag: string, rewriteTagManifests = true): void {
  const { readdirSync, readFileSync, statSync } = require('node:fs') as typeof import('node:fs')
  const { createHash } = require('node:crypto') as typeof import('node:crypto')
  const list = (dir: string, prefix: string): string[] =>
    readdirSync(join(bag, dir), { withFileTypes: true }).flatMap((d) =>
      d.isDirectory() ? list(join(dir, d.name), `${prefix}${d.name}/`) : [`${prefix}${d.name}`],
    )
  // One manifest per algorithm: "<hex digest>  <path>" lines, as bag tools write them.
  const writeManifests = (prefix: string, paths: readonly string[]): void => {
    for (const alg of ['sha512', 'sha256']) {
      const digest = (p: string): string =>
        createHash(alg)
          .update(readFileSync(join(bag, p)))
          .digest('hex')
      writeFileSync(join(bag, `${prefix}-${alg}.txt`), paths.map((p) => `${digest(p)}  ${p}\n`).join(''))
    }
  }
  const payload = list('data', 'data/').sort()
  writeManifests('manifest', payload)
  if (!rewriteTagManifests) return
  const bytes = payload.reduce((n, p) => n + statSync(join(bag, p)).size, 0)
  try {
    const info = readFileSync(join(bag, 'bag-info.txt'), 'utf8')
    writeFileSync(
      join(bag, 'bag-info.txt'),
      info.replace(/^Payload-Oxum: .*$/m, `Payload-Oxum: ${bytes}.${payload.length}`),
    )
  } catch {
    // no bag-info.txt
  }
  const tags = ['bagit.txt', 'bag-info.txt', 'manifest-sha256.txt', 'manifest-sha512.txt'].filter((t) => {
    try {
      return statSync(join(bag, t)).isFile()
    } catch {
      return false
    }
  })
  writeManifests('tagmanifest', tags)
}

/** The same cipher with streaming members (buffers per file: enough to exercise the stream path). */
export function streamingTestCipher(key: Uint8Array = nodeRandom(32)): PayloadCipher {
  const base = testCipher(key)
  const through = (
    fn: (bytes: Uint8Array) => Promise<Uint8Array>,
  ): TransformStream<Uint8Array, Uint8Array> => {
    const parts: Uint8Array[] = []
    return new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk) {
        parts.push(chunk)
      },
      async flush(controller) {
        controller.enqueue(await fn(new Uint8Array(Buffer.concat(parts))))
      },
    })
  }
  return {
    ...base,
    encryptStream: (context) => through((b) => base.encrypt(b, context)),
    decryptStream: (context) => through((b) => base.decrypt(b, context)),
  }
}
