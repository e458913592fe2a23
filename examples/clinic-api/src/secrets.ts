/**
 * The secrets every instance of the clinic must agree on: the audit checkpoint signing key (one
 * chain, one signer identity), the pseudonym key (one pseudonym per patient across instances), the
 * keyring's master secret (every instance unwraps every record), the backup signing key, and the
 * seeded staff's demo credentials.
 *
 * They come from the environment (`CLINIC_CHECKPOINT_KEY`, `CLINIC_PSEUDONYM_KEY`,
 * `CLINIC_KEYRING_SECRET`) or from `secrets.json` in the shared directory, which the first instance
 * to start creates once, atomically ({@link writeOnce}): two instances starting together end up with
 * the same file. The file is mode 0600 and nothing here ever prints a secret. A real deployment
 * keeps these in a KMS, an HSM or a secret manager instead.
 */
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { createCheckpointSigner, generateCheckpointKey } from '@safeguards/audit-log'
import { generateSigningKeyPair, type importSigningKey } from '@safeguards/backup'
import { base64ToBytes, bytesToBase64, bytesToHex, randomBytes, utf8Encode } from '@safeguards/core'
import { errorCode, withFileLock, writeFileAtomic } from '@safeguards/core/node'
import { generateTotpSecret, secretToBase32 } from '@safeguards/mfa'
import { writeOnce } from './write-once.js'

type CheckpointJwk = Parameters<typeof createCheckpointSigner>[0]
type BackupJwk = Parameters<typeof importSigningKey>[0]

/** One seeded user's demo credentials (handed to the demo and the tests, who play the users). */
export interface StaffCredentials {
  readonly password: string
  /** The TOTP secret, base32. */
  readonly totpSecret: string
}

/** Everything instances must share. */
export interface ClinicSecrets {
  /** Signs audit checkpoints (Ed25519 JWKs). */
  readonly checkpointKey: { readonly privateJwk: CheckpointJwk; readonly publicJwk: CheckpointJwk }
  /** Keys the patient pseudonyms in audit records, 32 bytes. */
  readonly pseudonymKey: Uint8Array
  /** Seals the keyring file (base64 of 32 random bytes). */
  readonly keyringSecret: string
  /** Signs backup attestations. */
  readonly backupKey: { readonly privateJwk: BackupJwk; readonly publicJwk: BackupJwk }
  /** The seeded staff's credentials, by username. */
  readonly staff: Readonly<Record<string, StaffCredentials>>
}

/** Where a secret came from, for the startup line (never the value). */
export type SecretSource = 'env' | 'file'

/** The environment variables that override the file. */
export const SECRET_ENV = {
  checkpointKey: 'CLINIC_CHECKPOINT_KEY',
  pseudonymKey: 'CLINIC_PSEUDONYM_KEY',
  keyringSecret: 'CLINIC_KEYRING_SECRET',
} as const

/** A startup configuration error: a message for the operator, never a secret value. */
export class ClinicConfigError extends Error {
  override readonly name = 'ClinicConfigError'
}

const publicOf = (jwk: CheckpointJwk): CheckpointJwk => {
  const { d: _d, ...pub } = jwk
  return pub
}

async function newStaff(usernames: readonly string[]): Promise<Record<string, StaffCredentials>> {
  const staff: Record<string, StaffCredentials> = {}
  for (const u of usernames)
    staff[u] = {
      password: `${bytesToHex(randomBytes(8))} clinic demo passphrase`,
      totpSecret: secretToBase32(generateTotpSecret(20)),
    }
  return staff
}

/** Fresh secrets for one run (the embedded default when nothing is shared). */
export async function generateClinicSecrets(usernames: readonly string[]): Promise<ClinicSecrets> {
  const cp = await generateCheckpointKey()
  return {
    checkpointKey: { privateJwk: cp.privateJwk, publicJwk: cp.publicJwk },
    pseudonymKey: randomBytes(32),
    keyringSecret: bytesToBase64(randomBytes(32)),
    backupKey: await generateSigningKeyPair('EdDSA', 'clinic-backup'),
    staff: await newStaff(usernames),
  }
}

interface SecretsFile {
  v: 1
  checkpointPrivateJwk?: CheckpointJwk
  pseudonymKey?: string
  keyringSecret?: string
  backupPrivateJwk: BackupJwk
  backupPublicJwk: BackupJwk
  staff: Record<string, StaffCredentials>
}

function parseJwk(text: string, what: string): CheckpointJwk {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    throw new ClinicConfigError(`${what} is not JSON (expected an Ed25519 private JWK)`)
  }
  const j = v as Record<string, unknown>
  if (
    typeof j !== 'object' ||
    j === null ||
    j.kty !== 'OKP' ||
    j.crv !== 'Ed25519' ||
    typeof j.d !== 'string'
  )
    throw new ClinicConfigError(`${what} is not an Ed25519 private JWK`)
  return j as CheckpointJwk
}

function key32(text: string, what: string): Uint8Array {
  let b: Uint8Array
  try {
    b = base64ToBytes(text.trim())
  } catch {
    throw new ClinicConfigError(`${what} is not base64`)
  }
  if (b.length < 32) throw new ClinicConfigError(`${what} must be at least 32 bytes (base64)`)
  return b
}

function readSecretsFile(path: string): SecretsFile {
  if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0)
    throw new ClinicConfigError(`${path} is accessible by group or others (chmod 600 it)`)
  let f: SecretsFile
  try {
    f = JSON.parse(readFileSync(path, 'utf8')) as SecretsFile
  } catch {
    throw new ClinicConfigError(`${path} is not valid JSON`)
  }
  if (f?.v !== 1 || typeof f.staff !== 'object' || f.staff === null || typeof f.backupPrivateJwk !== 'object')
    throw new ClinicConfigError(`${path} is not a clinic secrets file (v1)`)
  for (const s of Object.values(f.staff))
    if (typeof s?.password !== 'string' || typeof s.totpSecret !== 'string')
      throw new ClinicConfigError(`${path} has malformed staff credentials`)
  return f
}

/**
 * The secrets file with credentials for every seeded user. A file written by an earlier release
 * lacks the users seeded since (the privacy officer, say): they get fresh credentials, added under
 * the file's lock (two instances starting at once add them once, and both read the same), the
 * rest of the file unchanged.
 */
async function withEveryUser(path: string, usernames: readonly string[]): Promise<SecretsFile> {
  const lacking = (f: SecretsFile) => usernames.filter((u) => f.staff[u] === undefined)
  const file = readSecretsFile(path)
  if (lacking(file).length === 0) return file
  return withFileLock(`${path}.lock`, async (lock) => {
    const current = readSecretsFile(path)
    const add = lacking(current)
    if (add.length === 0) return current
    const next: SecretsFile = { ...current, staff: { ...current.staff, ...(await newStaff(add)) } }
    await writeFileAtomic(path, utf8Encode(`${JSON.stringify(next, null, 2)}\n`), {
      mode: 0o600,
      beforeCommit: () => lock.assertHeld(),
    })
    return next
  })
}

/**
 * Loads the shared secrets: each from its environment variable if set, otherwise from
 * `<dir>/secrets.json`, which is created (once, atomically, mode 0600) when missing, holding a
 * fresh value for every secret the environment does not give.
 *
 * @throws {ClinicConfigError} for a malformed variable or file, a file readable by others, or a
 *   secret in neither (the file was created by an instance that had it in its environment).
 */
export async function loadOrCreateSecrets(
  dir: string,
  usernames: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<{
  secrets: ClinicSecrets
  created: boolean
  path: string
  sources: Record<string, SecretSource>
}> {
  const path = join(dir, 'secrets.json')
  const fromEnv = {
    checkpointKey: env[SECRET_ENV.checkpointKey],
    pseudonymKey: env[SECRET_ENV.pseudonymKey],
    keyringSecret: env[SECRET_ENV.keyringSecret],
  }
  let created = false
  let file: SecretsFile
  try {
    file = await withEveryUser(path, usernames)
  } catch (e) {
    if (errorCode(e) !== 'ENOENT') throw e
    const backup = await generateSigningKeyPair('EdDSA', 'clinic-backup')
    const fresh: SecretsFile = {
      v: 1,
      ...(fromEnv.checkpointKey ? {} : { checkpointPrivateJwk: (await generateCheckpointKey()).privateJwk }),
      ...(fromEnv.pseudonymKey ? {} : { pseudonymKey: bytesToBase64(randomBytes(32)) }),
      ...(fromEnv.keyringSecret ? {} : { keyringSecret: bytesToBase64(randomBytes(32)) }),
      backupPrivateJwk: backup.privateJwk,
      backupPublicJwk: backup.publicJwk,
      staff: await newStaff(usernames),
    }
    created = writeOnce(path, utf8Encode(`${JSON.stringify(fresh, null, 2)}\n`))
    // Lost the race to another instance: use what it wrote.
    file = created ? fresh : await withEveryUser(path, usernames)
  }
  const missing = (name: string): never => {
    throw new ClinicConfigError(`${name} is neither set nor in ${path}; every instance needs the same value`)
  }
  const checkpointPrivate =
    fromEnv.checkpointKey !== undefined && fromEnv.checkpointKey !== ''
      ? parseJwk(fromEnv.checkpointKey, SECRET_ENV.checkpointKey)
      : (file.checkpointPrivateJwk ?? missing(SECRET_ENV.checkpointKey))
  // Fails early, with the variable's name, on a key the signer cannot use.
  await createCheckpointSigner(checkpointPrivate).catch(() => {
    throw new ClinicConfigError(`the checkpoint key (${SECRET_ENV.checkpointKey} or ${path}) is unusable`)
  })
  const pseudonymKey = key32(
    fromEnv.pseudonymKey || (file.pseudonymKey ?? missing(SECRET_ENV.pseudonymKey)),
    SECRET_ENV.pseudonymKey,
  )
  const keyringSecret = fromEnv.keyringSecret || (file.keyringSecret ?? missing(SECRET_ENV.keyringSecret))
  key32(keyringSecret, SECRET_ENV.keyringSecret)
  const src = (v: string | undefined): SecretSource => (v ? 'env' : 'file')
  return {
    secrets: {
      checkpointKey: { privateJwk: checkpointPrivate, publicJwk: publicOf(checkpointPrivate) },
      pseudonymKey,
      keyringSecret,
      backupKey: { privateJwk: file.backupPrivateJwk, publicJwk: file.backupPublicJwk },
      staff: file.staff,
    },
    created,
    path,
    sources: {
      checkpointKey: src(fromEnv.checkpointKey),
      pseudonymKey: src(fromEnv.pseudonymKey),
      keyringSecret: src(fromEnv.keyringSecret),
    },
  }
}
