/**
 * The registry of `safeguards` subcommands. Each package's commands live in their own file in this
 * folder; add one import and one entry per command, in alphabetical order.
 *
 * @module
 */
import type { Command } from '../command.js'
import { accessCommand } from './access.js'
import { auditCommand } from './audit.js'
import { controlsCommand } from './controls.js'
import { decryptCommand, encryptCommand, rewrapCommand } from './envelope-crypto.js'
import { inspectCommand } from './envelope-inspect.js'
import { keysCommand } from './envelope-keys.js'
import { passwordCommand } from './password.js'
import { hsmCommand } from './pkcs11-hsm.js'
import { sessionCommand } from './session.js'

/** Every subcommand, in the order `safeguards --help` lists them. */
export const commands: readonly Command[] = [
  accessCommand,
  auditCommand,
  controlsCommand,
  decryptCommand,
  encryptCommand,
  hsmCommand,
  inspectCommand,
  keysCommand,
  passwordCommand,
  rewrapCommand,
  sessionCommand,
]
