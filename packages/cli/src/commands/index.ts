/**
 * The registry of `safeguards` subcommands. Each package's commands live in their own file in this
 * folder; add one entry per command, in alphabetical order. Entries load their module on demand, so
 * `safeguards encrypt` never loads the audit log, PostgreSQL driver or HSM binding (and stays well
 * inside its memory budget); the CLI build splits each module into its own chunk.
 *
 * @module
 */
import type { Command } from '../command.js'

/** A registered command: its name and how to load it. */
export interface CommandEntry {
  /** The word after `safeguards`. */
  readonly name: string
  /** Imports the command's module and returns the command. */
  readonly load: () => Promise<Command>
}

/** Every subcommand, in the order `safeguards --help` lists them. */
export const commandEntries: readonly CommandEntry[] = [
  { name: 'access', load: async () => (await import('./access.js')).accessCommand },
  { name: 'audit', load: async () => (await import('./audit.js')).auditCommand },
  { name: 'backup', load: async () => (await import('./backup.js')).backupCommand },
  { name: 'controls', load: async () => (await import('./controls.js')).controlsCommand },
  { name: 'decrypt', load: async () => (await import('./envelope-crypto.js')).decryptCommand },
  { name: 'encrypt', load: async () => (await import('./envelope-crypto.js')).encryptCommand },
  { name: 'evidence', load: async () => (await import('./evidence.js')).evidenceCommand },
  { name: 'hsm', load: async () => (await import('./pkcs11-hsm.js')).hsmCommand },
  { name: 'identity', load: async () => (await import('./envelope-recipients.js')).identityCommand },
  { name: 'inspect', load: async () => (await import('./envelope-inspect.js')).inspectCommand },
  { name: 'keys', load: async () => (await import('./envelope-keys.js')).keysCommand },
  { name: 'password', load: async () => (await import('./password.js')).passwordCommand },
  { name: 'rewrap', load: async () => (await import('./envelope-crypto.js')).rewrapCommand },
  { name: 'session', load: async () => (await import('./session.js')).sessionCommand },
  { name: 'transit', load: async () => (await import('./transit.js')).transitCommand },
]

/**
 * Loads every registered command (for `--help`, or to embed the commands elsewhere).
 *
 * @example
 * ```ts
 * for (const c of await loadCommands()) console.log(c.name, c.summary)
 * ```
 */
export async function loadCommands(): Promise<readonly Command[]> {
  return Promise.all(commandEntries.map((entry) => entry.load()))
}
