/**
 * Slow check, outside the default test run (about 2 × 4 GiB of SHA-512 + SHA-256; minutes on a
 * shared 2-core machine): `pnpm --filter @safeguards/backup test:slow`. Hashes the >4 GiB sparse
 * file in full and checks that one byte changed past 2^32 is found.
 */
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { dirname } from 'node:path'
import { verifyBag } from '../../src/index.js'
import { bigBag } from '../big-file.js'

const clean = bigBag()
const ok = await verifyBag(clean)
assert.equal(ok.report.exitCode, 0, JSON.stringify(ok.report.findings))
const flipped = bigBag(true)
const bad = await verifyBag(flipped)
assert.deepEqual(
  bad.report.findings.filter((f) => f.severity === 'error').map((f) => `${f.code} ${f.path} ${f.detail}`),
  ['E_DIGEST_MISMATCH data/big.img sha512', 'E_DIGEST_MISMATCH data/big.img sha256'],
)
for (const d of [clean, flipped]) rmSync(dirname(d), { recursive: true, force: true })
console.log('slow check passed: full hash above 4 GiB, flipped byte at 4 GiB + 4 KiB found')
