/** The >4 GiB sparse layout shared by the scale test and the slow script, with its digests. */
import { closeSync, mkdirSync, mkdtempSync, openSync, writeFileSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const GiB = 1024 ** 3
export const BIG_SIZE = 4 * GiB + 1024 * 1024
const BIG_SHA512 =
  'c0f896d652e58fe7456514aaad7a36123d293d29c64f4b22d16a1b4ac6526fa42bc446f695b7ab77b25dd08b9a72dee800059978270786a2d4158aa29b16f267'
const BIG_SHA256 = '48c5bc7caa4a369c77b3a57b983435819d33cbbbb454b38c47e5943aca3d7702'
const SMALL_SHA512 =
  'a4abd4448c49562d828115d13a1fccea927f52b4d5459297f8b43e42da89238bc13626e43dcb38ddb082488927ec904fb42057443983e88585179d50551afe62'
const SMALL_SHA256 = '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881'

/**
 * A bag (in a new temporary folder: remove `dirname(bag)` afterwards) holding the layout.
 */
/** Writes the sparse layout whose digests are above: zeros, [1,2,3] at 4 GiB + 4 KiB, 9 at the end. */
function writeBig(path: string, flip = false): void {
  const fd = openSync(path, 'w')
  writeSync(fd, new Uint8Array([1, 2, flip ? 2 : 3]), 0, 3, 4 * GiB + 4096)
  writeSync(fd, new Uint8Array([9]), 0, 1, BIG_SIZE - 1)
  closeSync(fd)
}

export function bigBag(flip = false, oxumBytes: number = BIG_SIZE + 1): string {
  const bag = join(mkdtempSync(join(tmpdir(), 'sg-backup-big-')), 'bag')
  mkdirSync(join(bag, 'data'), { recursive: true })
  writeBig(join(bag, 'data/big.img'), flip)
  for (const [name, text] of Object.entries({
    'data/small.txt': 'x',
    'bagit.txt': 'BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n',
    'bag-info.txt': `Payload-Oxum: ${oxumBytes}.2\n`,
    'manifest-sha512.txt': `${BIG_SHA512}  data/big.img\n${SMALL_SHA512}  data/small.txt\n`,
    'manifest-sha256.txt': `${BIG_SHA256}  data/big.img\n${SMALL_SHA256}  data/small.txt\n`,
  }))
    writeFileSync(join(bag, name), text)
  return bag
}
