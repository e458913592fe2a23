import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createCheckpointSigner,
  createKeyring,
  createPseudonymizer,
  directoryAnchor,
  generateCheckpointKey,
  openAuditLog,
  openFileStore,
  verifyLog,
} from '@safeguards/audit-log'
import { randomBytes } from '@safeguards/core'
import { errorCode } from '@safeguards/core/node'
import type { TourStep } from '../step.js'

export const auditLogStep: TourStep = {
  package: '@safeguards/audit-log',
  title: 'tamper-evident audit log: append, sign checkpoints, tamper with a copy, verify',
  hipaa: ['164.312(b) audit controls', '164.312(c)(1) integrity', '164.308(a)(1)(ii)(D) activity review'],
  async run(say) {
    const work = mkdtempSync(join(tmpdir(), 'sg-tour-audit-'))
    try {
      const dir = join(work, 'log')
      const anchorDir = join(work, 'anchor')
      const key = await generateCheckpointKey()
      const pseudonyms = createPseudonymizer(randomBytes(32), { keyId: 'tour' })
      const log = await openAuditLog({
        store: await openFileStore({ dir, stream: 'clinic-api' }),
        signer: await createCheckpointSigner(key.privateJwk),
        anchor: directoryAnchor(anchorDir),
        checkpointEvery: { records: 4, ms: 0 },
      })
      for (let i = 0; i < 8; i++) {
        await log.append({
          type: 'rest',
          subtype: ['read'],
          action: 'R',
          outcome: 0,
          agents: [{ who: `Practitioner/${17 + (i % 2)}`, requestor: true }],
          source: { observer: 'clinic-api' },
          patient: pseudonyms.pseudonym(`MRN-00042${i}`),
          requestId: `req-${i}`,
        })
      }
      try {
        await log.append({ type: 'rest', action: 'R', outcome: 0, agents: [], source: { observer: 'x' } })
      } catch (e) {
        say(`an event without agents is refused: ${errorCode(e)}`)
      }
      await log.close()
      say(
        `appended 8 events (patient ids as keyed pseudonyms, e.g. ${pseudonyms.pseudonym('MRN-000420').slice(0, 24)}…)`,
      )
      const keyring = await createKeyring([{ publicJwk: key.publicJwk }])
      const anchor = directoryAnchor(anchorDir)
      const clean = await verifyLog(await openFileStore({ dir, readOnly: true }), { keyring, anchor })
      say(
        `verify: ok=${clean.ok}, ${clean.records} records, ${clean.checkpoints.verified} checkpoints, anchored through seq ${clean.anchoredThrough}`,
      )

      const copy = join(work, 'tampered')
      cpSync(dir, copy, { recursive: true })
      const seg = join(copy, 'segments', `${'0'.repeat(20)}.jsonl`)
      const lines = readFileSync(seg, 'utf8').split('\n')
      lines[5] = lines[5]!.replace('"action":"R"', '"action":"D"')
      writeFileSync(seg, lines.join('\n'))
      say('tampered with a copy: record 5 now says the chart was deleted instead of read')
      const bad = await verifyLog(await openFileStore({ dir: copy, readOnly: true }), { keyring, anchor })
      const first = bad.findings[0]
      say(
        `verify the copy: ok=${bad.ok}, first finding: seq ${first?.seq} ${first?.code} (${first?.message})`,
      )
    } finally {
      rmSync(work, { recursive: true, force: true })
    }
  },
}
