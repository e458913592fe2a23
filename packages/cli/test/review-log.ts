/**
 * The log the `audit review` and `audit findings` tests review: a password spray (high) from seq 0,
 * a failed sign-in burst (medium) from seq 12 and three reads, appended through the CLI.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'vitest'
import { runCli } from '../src/index.js'
import { fakeIO } from './helpers.js'

export const dirs: string[] = []

/** Removes the directories made by {@link setup}. */
export function cleanup(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
}

/** Runs the CLI in this process with fake streams. */
export async function run(argv: string[], stdin = '', cwd?: string, env: Record<string, string> = {}) {
  const f = fakeIO(stdin)
  if (cwd !== undefined) f.io.cwd = cwd
  f.io.env = { ...f.io.env, ...env }
  const code = await runCli(argv, f.io)
  return { code, out: f.stdout(), err: f.stderr() }
}

export const T0 = Date.parse('2026-03-02T12:00:00.000Z')
const source = { observer: 'ehr-api' }
export const failedSignIn = (who: string, address: string, i: number) =>
  JSON.stringify({
    type: '110114',
    subtype: ['110122'],
    action: 'E',
    outcome: 4,
    occurred: new Date(T0 + i * 10_000).toISOString(),
    agents: [{ who, requestor: true, network: { address, type: '2' } }],
    source,
  })
export const read = (who: string, patient: string, i: number) =>
  JSON.stringify({
    type: 'rest',
    action: 'R',
    outcome: 0,
    patient,
    occurred: new Date(T0 + i * 10_000).toISOString(),
    agents: [{ who, requestor: true }],
    source,
  })

/** A log with a password spray (high) from seq 0 and a failed sign-in burst (medium) from seq 12. */
export async function setup(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'sg-cli-review-'))
  dirs.push(dir)
  const lines = [
    ...Array.from({ length: 12 }, (_, i) => failedSignIn(`acct-${i}`, '203.0.113.9', i)),
    ...Array.from({ length: 5 }, (_, i) => failedSignIn('Practitioner/2', '10.0.0.2', 12 + i)),
    ...Array.from({ length: 3 }, (_, i) => read('Practitioner/3', `Patient/${i}`, 20 + i)),
  ]
  const ap = await run(['audit', 'append', '--log', 'log'], `${lines.join('\n')}\n`, dir)
  expect(ap.code).toBe(0)
  return dir
}
