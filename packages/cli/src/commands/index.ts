/**
 * The registry of `safeguards` subcommands. Each package's commands live in their own file in this
 * folder; add one import and one entry per command, in alphabetical order.
 *
 * @module
 */
import type { Command } from '../command.js'
import { backupCommand } from './backup.js'

/** Every subcommand, in the order `safeguards --help` lists them. */
export const commands: readonly Command[] = [backupCommand]
