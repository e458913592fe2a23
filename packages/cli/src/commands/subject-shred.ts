/**
 * `safeguards keys shred --subject ID`: crypto-shreds one subject (a patient) in a subject-key store
 * (`@safeguards/envelope`'s per-subject keys), in two steps so that neither a human nor a script
 * destroys the wrong subject by accident:
 *
 * 1. Without `--confirm`, nothing changes: the command prints the subject key's opaque reference,
 *    its status and a confirmation token, and exits 2 (a script that forgets step 2 fails loudly).
 * 2. With `--confirm TOKEN`, where TOKEN is the one printed for this subject and this store, it
 *    shreds. The token is derived from the subject key's reference (so from the subject id and the
 *    store's namespace key): a token for another subject, another store or a typo is refused
 *    (exit 2) and nothing is destroyed. Scripts read it from `--json` output of step 1.
 *
 * Step 1 writes nothing except, in a store that has never been used, the store's namespace key (the
 * key that makes subject references opaque), which every later use needs anyway.
 *
 * HIPAA: 164.310(d)(2)(i) disposal (irreversible, confirmed destruction of one subject's key).
 *
 * @module
 */
import { resolve } from 'node:path'
import { bytesToHex, sha256, utf8Encode } from '@safeguards/core'
import { createSubjectKeys, fileSubjectKeyStore, type SubjectKeyStore } from '@safeguards/envelope'
import { optionalString, parseCommandArgs, requireString } from '../args.js'
import type { CliIO } from '../command.js'
import { CliExit, ExitCode, UsageError } from '../errors.js'
import { FLAG, STRING } from '../internal/options.js'
import { isPostgresUrl, parsePostgresSpec } from '../internal/postgres-spec.js'
import type { Subcommand } from '../internal/subcommands.js'
import { safeText, writeJson, writeLine } from '../output.js'
import { keyringOptions, mapEnvelopeError, openKeyring } from './envelope-shared.js'

/** The usage lines of `keys shred`, for the `keys` help. */
export const shredUsage: string = [
  '  shred --subject ID --subject-keys STORE [--confirm TOKEN] [--json]',
  "                                    destroy one subject's key for good (crypto-shredding): run once",
  '                                    without --confirm to see the subject key and its token (exit 2),',
  '                                    then again with --confirm TOKEN. STORE: a subject-key file, or',
  '                                    postgres://…[?schema=NAME] (@safeguards/envelope-postgres)',
].join('\n')

const OPTIONS = { ...keyringOptions, subject: STRING, 'subject-keys': STRING, confirm: STRING, json: FLAG }

/** The confirmation token of a subject key reference: `shred-` and 12 hex digits of a SHA-256. */
export function confirmationToken(keyRef: string): string {
  return `shred-${bytesToHex(sha256(utf8Encode(`safeguards keys shred\u0000${keyRef}`))).slice(0, 12)}`
}

async function openStore(spec: string, io: CliIO): Promise<SubjectKeyStore> {
  if (spec === '') throw new UsageError('--subject-keys is empty')
  if (!isPostgresUrl(spec)) return fileSubjectKeyStore(resolve(io.cwd, spec))
  const { connectionString, schema } = parsePostgresSpec(spec, '--subject-keys')
  const { openPostgresSubjectKeyStore } = await import('@safeguards/envelope-postgres')
  try {
    return await openPostgresSubjectKeyStore({
      connectionString,
      maxConnections: 1,
      ...(schema === undefined ? {} : { schema }),
    })
  } catch (e) {
    if (e instanceof RangeError) throw new UsageError(`--subject-keys: ${e.message}`, { cause: e })
    throw e
  }
}

/** `safeguards keys shred`. */
export const shredSubcommand: Subcommand = async (argv, io) => {
  const { values } = parseCommandArgs(argv, OPTIONS)
  const subject = requireString(values, 'subject')
  const spec = requireString(values, 'subject-keys')
  const confirm = optionalString(values, 'confirm')
  const json = values.json === true
  const kek = await openKeyring(values, io).catch(mapEnvelopeError)
  const store = await openStore(spec, io)
  const subjects = createSubjectKeys({ kek, store, cacheTtlMs: 0 })
  try {
    let keyRef: string
    try {
      keyRef = await subjects.keyRefOf(subject)
    } catch (e) {
      if (e instanceof TypeError || e instanceof RangeError)
        throw new UsageError(`--subject: ${e.message}`, { cause: e })
      throw e
    }
    const token = confirmationToken(keyRef)
    if (confirm === undefined) {
      const status = await subjects.status(subject)
      if (json) writeJson(io, { subjectKey: keyRef, status, shredded: false, confirm: token })
      else {
        writeLine(io, `subject key ${safeText(keyRef)} (${status}): shredding makes every message of this`)
        writeLine(io, 'subject unreadable for good, and the subject can never get a key again.')
        writeLine(io, `To shred it, run the same command again with --confirm ${token}`)
      }
      throw new CliExit(ExitCode.USAGE, 'not shredded: confirmation required (--confirm TOKEN)')
    }
    if (confirm !== token)
      throw new UsageError('--confirm does not match this subject and store; nothing was shredded')
    const r = await subjects.shredSubject(subject)
    if (json) writeJson(io, { subjectKey: r.keyRef, status: 'shredded', shredded: true, outcome: r.outcome })
    else writeLine(io, `subject key ${safeText(r.keyRef)} shredded (${r.outcome})`)
    return ExitCode.OK
  } catch (e) {
    return mapEnvelopeError(e)
  } finally {
    await subjects.close()
  }
}
