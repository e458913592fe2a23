/**
 * The registry of `safeguards` subcommands. Each package's commands live in their own file in this
 * folder; add one import and one entry per command, in alphabetical order.
 *
 * @module
 */
import type { Command } from '../command.js'
import { backupCommand } from './backup.js'
import { decryptCommand, encryptCommand, rewrapCommand } from './envelope-crypto.js'
import { inspectCommand } from './envelope-inspect.js'
import { keysCommand } from './envelope-keys.js'

/** Every subcommand, in the order `safeguards --help` lists them. */
export const commands: readonly Command[] = [
  backupCommand,
  decryptCommand,
  encryptCommand,
  inspectCommand,
  keysCommand,
  rewrapCommand,
]
