import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { IoError } from '../src/index.js'
import { errorCode, fsyncDir, fsyncDirSync, writeFileAtomic } from '../src/node/index.js'

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'sg-atomic-'))
const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('writeFileAtomic', () => {
  it('replaces a file whole, owner-only by default, leaving no temporary file', async () => {
    const dir = tempDir()
    const path = join(dir, 'state.json')
    writeFileSync(path, 'old')
    await writeFileAtomic(path, enc('new'))
    expect(readFileSync(path, 'utf8')).toBe('new')
    expect(statSync(path).mode & 0o777).toBe(0o600)
    await writeFileAtomic(path, enc('newer'), { mode: 0o640 })
    expect(statSync(path).mode & 0o777).toBe(0o640)
    expect(readdirSync(dir)).toEqual(['state.json'])
  })

  it('an exclusive create never replaces an existing file (IoError, syscallCode EEXIST)', async () => {
    const dir = tempDir()
    const path = join(dir, 'keyring.json')
    await writeFileAtomic(path, enc('first'), { exclusive: true })
    const err = await writeFileAtomic(path, enc('second'), { exclusive: true }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(IoError)
    expect((err as IoError).syscallCode).toBe('EEXIST')
    expect(readFileSync(path, 'utf8')).toBe('first')
    expect(readdirSync(dir)).toEqual(['keyring.json'])
  })

  it('beforeCommit can refuse: the target is untouched and the temporary file removed', async () => {
    const dir = tempDir()
    const path = join(dir, 'state.json')
    writeFileSync(path, 'old')
    const refusal = new Error('not ours any more')
    await expect(
      writeFileAtomic(path, enc('new'), {
        beforeCommit: () => {
          throw refusal
        },
      }),
    ).rejects.toBe(refusal)
    expect(readFileSync(path, 'utf8')).toBe('old')
    expect(readdirSync(dir)).toEqual(['state.json'])
  })

  it('names the path and the step that failed', async () => {
    const path = join(tempDir(), 'missing', 'state.json')
    await expect(writeFileAtomic(path, enc('x'))).rejects.toMatchObject({
      code: 'ERR_IO',
      path,
      syscallCode: 'ENOENT',
    })
    const dir = tempDir()
    const target = join(dir, 'a-directory')
    // Renaming a file over a non-empty directory fails: the rename step is named.
    mkdirSync(target)
    writeFileSync(join(target, 'inside'), 'x')
    const err = await writeFileAtomic(target, enc('x')).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'ERR_IO', operation: 'replace', path: target })
    expect(readdirSync(dir)).toEqual(['a-directory'])
  })

  it('fsyncDir and fsyncDirSync tolerate what cannot be synced', async () => {
    const dir = tempDir()
    fsyncDirSync(dir)
    await fsyncDir(dir)
    fsyncDirSync(join(dir, 'missing'))
    await fsyncDir(join(dir, 'missing'))
  })
})

describe('errorCode', () => {
  it('reads a string code from any thrown value, and nothing else', () => {
    expect(errorCode(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe('ENOENT')
    expect(errorCode({ code: 'ERR_X' })).toBe('ERR_X')
    expect(errorCode({ code: 5 })).toBeUndefined()
    expect(errorCode(new Error('x'))).toBeUndefined()
    expect(errorCode('ENOENT')).toBeUndefined()
    expect(errorCode(null)).toBeUndefined()
    expect(errorCode(undefined)).toBeUndefined()
  })
})
