/**
 * `safeguards keys init|rotate|promote|list|retire|destroy|shred`: the local keyring's lifecycle, and
 * crypto-shredding of one subject's key (`shred`, in `subject-shred.ts`).
 * Rotation is two-phase when needed: `rotate --stage` adds a decrypt-only version (distribute the
 * keyring), `promote --version N` makes it primary; plain `rotate` does both at once.
 *
 * @module
 */
import { lstat } from 'node:fs/promises'
import { type KeyDescription, LocalKeyring } from '@safeguards/envelope'
import { optionalString, type ParsedValues, parseCommandArgs } from '../args.js'
import type { CliIO, Command } from '../command.js'
import { ExitCode, UsageError } from '../errors.js'
import { FLAG, STRING, versionOption } from '../internal/options.js'
import { commandOf, type Subcommand } from '../internal/subcommands.js'
import { safeText, writeJson, writeLine } from '../output.js'
import {
  keyringHelp,
  keyringOptions,
  keyringOpts,
  keyringPath,
  mapEnvelopeError,
  openKeyring,
} from './envelope-shared.js'
import { keyVersionDocument, keyVersionLine } from './key-versions.js'
import { shredSubcommand, shredUsage } from './subject-shred.js'

const usage = [
  'Usage: safeguards keys <init|rotate|promote|list|retire|destroy|shred> --keyring PATH [options]',
  '',
  '  init [--name NAME]                create a keyring with version 1 as primary (mode 0600)',
  '  rotate [--stage]                  add a version and promote it; --stage only adds it (decrypt-only)',
  '  promote --version N               make version N the primary',
  '  list [--json]                     versions, states, created-at and usage',
  '  retire --version N                disable a version once everything is rewrapped',
  '  destroy --version N --allow-destroy   erase a version for good (its data becomes unreadable)',
  shredUsage,
  '',
  keyringHelp,
  '',
  'Exit codes: 0 ok; 2 usage, malformed keyring, a keyring that already exists (init) or a forbidden',
  'transition; 3 key unavailable (sealed keyring, no secret); 74 the keyring cannot be read or',
  'written (names the path); 75 the keyring lock is held by another process or was lost (retry).',
].join('\n')

const OPTIONS = {
  ...keyringOptions,
  name: STRING,
  stage: FLAG,
  version: STRING,
  json: FLAG,
  'allow-destroy': FLAG,
}

/** A `keys` subcommand: its options parsed, envelope errors mapped to the documented exit codes. */
function keysStep(step: (values: ParsedValues, io: CliIO) => Promise<string[] | undefined>): Subcommand {
  return async (argv, io) => {
    const { values } = parseCommandArgs(argv, OPTIONS)
    try {
      for (const line of (await step(values, io)) ?? []) writeLine(io, line)
    } catch (error) {
      mapEnvelopeError(error)
    }
    return ExitCode.OK
  }
}

async function init(values: ParsedValues, io: CliIO): Promise<string[]> {
  const name = optionalString(values, 'name')
  const path = keyringPath(values, io)
  // Say so plainly (exit 2); create() refuses an existing file atomically in any case.
  const exists = await lstat(path).then(
    () => true,
    () => false,
  )
  if (exists) throw new UsageError(`--keyring ${path} already exists; refusing to overwrite it`)
  const kr = await LocalKeyring.create(path, {
    ...keyringOpts(values, io),
    ...(name === undefined ? {} : { name }),
  })
  const primary = safeText((await kr.primary()).keyRef)
  return [`created keyring ${safeText(kr.name)}: primary ${primary}${kr.sealed ? ' (sealed)' : ''}`]
}

async function list(values: ParsedValues, io: CliIO): Promise<undefined> {
  const kr = await openKeyring(values, io)
  const keys = await kr.list()
  if (values.json !== true) {
    for (const k of keys) writeLine(io, `${keyVersionLine(k)}\t${k.usage?.wraps ?? 0n} wraps`)
    return undefined
  }
  const usageOf = ({ usage }: KeyDescription) =>
    usage === undefined
      ? null
      : { wraps: usage.wraps.toString(), limit: usage.limit.toString(), warnAt: usage.warnAt.toString() }
  const versions = keys.map((k) => ({ ...keyVersionDocument(k), usage: usageOf(k) }))
  writeJson(io, { name: kr.name, sealed: kr.sealed, keys: versions })
  return undefined
}

async function destroy(values: ParsedValues, io: CliIO): Promise<string[]> {
  const v = versionOption(values)
  if (values['allow-destroy'] !== true)
    throw new UsageError('destroy erases the key for good; add --allow-destroy to confirm')
  const d = await (await openKeyring(values, io)).destroy(v, { allowDestroy: true })
  return [`${safeText(d.keyRef)} destroyed`]
}

/** `safeguards keys`. */
export const keysCommand: Command = commandOf({
  name: 'keys',
  summary: 'manage the local keyring (init, rotate, promote, list, retire, destroy) and shred a subject',
  usage,
  subcommands: {
    init: keysStep(init),
    rotate: keysStep(async (values, io) => {
      const kr = await openKeyring(values, io)
      const d = values.stage === true ? await kr.addVersion() : await kr.rotate()
      return [`${safeText(d.keyRef)} added (${d.state})`]
    }),
    promote: keysStep(async (values, io) => {
      const version = versionOption(values) // a usage error before the keyring is read
      const d = await (await openKeyring(values, io)).promote(version)
      return [`${safeText(d.keyRef)} is the primary`]
    }),
    list: keysStep(list),
    retire: keysStep(async (values, io) => {
      const version = versionOption(values)
      const d = await (await openKeyring(values, io)).retire(version)
      return [`${safeText(d.keyRef)} retired`]
    }),
    destroy: keysStep(destroy),
    shred: shredSubcommand,
  },
})
