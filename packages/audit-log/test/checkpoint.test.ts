import { canonicalize, manualClock } from '@safeguards/core'
import { decodeProtectedHeader, FlattenedSign, importJWK } from 'jose'
import { describe, expect, it } from 'vitest'
import {
  AuditClosedError,
  AuditKeyError,
  CheckpointError,
  createCheckpointSigner,
  createKeyring,
  directoryAnchor,
  generateCheckpointKey,
  openAuditLog,
  openFileStore,
  proveConsistency,
  proveInclusion,
  readCheckpointUnverified,
  type Timers,
  verifyConsistencyBundle,
  verifyInclusionBundle,
} from '../src/index.js'
import { event, tempDir, verifyEveryWay } from './helpers.js'

function fakeTimers(): Timers & { fire(): void; active: number } {
  const callbacks = new Map<number, () => void>()
  let id = 0
  return {
    setInterval(cb: () => void) {
      callbacks.set(++id, cb)
      return id
    },
    clearInterval(h: unknown) {
      callbacks.delete(h as number)
    },
    fire() {
      for (const cb of callbacks.values()) cb()
    },
    get active() {
      return callbacks.size
    },
  }
}

describe('checkpoints', () => {
  it('writes a checkpoint every T and on close, but never one of an unchanged log', async () => {
    const dir = tempDir()
    const key = await generateCheckpointKey()
    const timers = fakeTimers()
    const clock = manualClock(1_700_000_000_000)
    const store = await openFileStore({ dir, stream: 's' })
    const log = await openAuditLog({
      store,
      signer: await createCheckpointSigner(key.privateJwk),
      checkpointEvery: { records: 1000, ms: 30_000 },
      clock,
      timers,
    })
    expect(timers.active).toBe(1)
    await log.append(event(0))
    clock.advance(30_000)
    timers.fire()
    const first = await log.checkpoint() // queued behind the timer's: the log has not grown since
    expect(first?.size).toBe(1)
    clock.advance(30_000)
    timers.fire() // idle: no checkpoint of the same size again
    expect(await log.checkpoint()).toEqual(first)
    await log.append(event(1))
    await log.close()
    expect(timers.active).toBe(0)
    const cps = await (await openFileStore({ dir, readOnly: true })).readCheckpoints()
    const bodies = cps.map((c) => readCheckpointUnverified(c.jws).body)
    expect(bodies.map((b) => b.size)).toEqual([1, 2])
    expect(bodies.map((b) => b.index)).toEqual([0, 1])
    expect(bodies[0]!.timestamp).toBe('2023-11-14T22:13:50.000Z')
    const keyring = await createKeyring([{ publicJwk: key.publicJwk }])
    const report = await verifyEveryWay(await openFileStore({ dir, readOnly: true }), { keyring })
    expect(report).toMatchObject({ ok: true, findings: [], checkpoints: { total: 2, verified: 2 } })
    await expect(log.append(event(2))).rejects.toThrow(AuditClosedError)
  })

  it('an empty log gets no checkpoint, not even on close, and nothing is anchored', async () => {
    const dir = tempDir()
    const anchorDir = tempDir()
    const key = await generateCheckpointKey()
    const log = await openAuditLog({
      store: await openFileStore({ dir, stream: 's' }),
      signer: await createCheckpointSigner(key.privateJwk),
      anchor: directoryAnchor(anchorDir),
      checkpointEvery: { records: 1, ms: 0 },
    })
    expect(await log.checkpoint()).toBeNull()
    await log.close()
    expect(await (await openFileStore({ dir, readOnly: true })).readCheckpoints()).toEqual([])
    expect(await directoryAnchor(anchorDir).list('s')).toEqual([])
  })

  it('a checkpoint stored but never anchored (a crash in between) is anchored by the next request', async () => {
    const dir = tempDir()
    const anchorDir = tempDir()
    const key = await generateCheckpointKey()
    const signer = await createCheckpointSigner(key.privateJwk)
    const unanchored = await openAuditLog({ store: await openFileStore({ dir, stream: 's' }), signer })
    await unanchored.append(event(0))
    await unanchored.close()
    const anchor = directoryAnchor(anchorDir)
    const log = await openAuditLog({ store: await openFileStore({ dir }), signer, anchor })
    const cp = await log.checkpoint()
    await log.close()
    expect(await (await openFileStore({ dir, readOnly: true })).readCheckpoints()).toEqual([cp])
    expect(await anchor.list('s')).toEqual([{ ...cp, index: 0 }])
  })

  it('rotates keys: old checkpoints stay verifiable with the old public key', async () => {
    const dir = tempDir()
    const a = await generateCheckpointKey()
    const b = await generateCheckpointKey()
    const clock = manualClock(1_700_000_000_000)
    let log = await openAuditLog({
      store: await openFileStore({ dir, stream: 's' }),
      signer: await createCheckpointSigner(a.privateJwk),
      checkpointEvery: { ms: 0 },
      clock,
    })
    await log.append(event(0))
    await log.close()
    clock.advance(1000)
    const rotatedAt = clock.now()
    log = await openAuditLog({
      store: await openFileStore({ dir }),
      signer: await createCheckpointSigner(b.privateJwk),
      checkpointEvery: { ms: 0 },
      clock,
    })
    await log.append(event(1))
    await log.close()
    const both = await createKeyring([
      { publicJwk: a.publicJwk, notAfter: rotatedAt },
      { publicJwk: b.publicJwk, notBefore: rotatedAt },
    ])
    const ok = await verifyEveryWay(await openFileStore({ dir, readOnly: true }), { keyring: both })
    expect(ok).toMatchObject({ ok: true, findings: [] })
    const onlyNew = await verifyEveryWay(await openFileStore({ dir, readOnly: true }), {
      keyring: await createKeyring([{ publicJwk: b.publicJwk }]),
    })
    expect(onlyNew.findings[0]).toMatchObject({ code: 'UNKNOWN_KEY', seq: 0 })
    const window = await verifyEveryWay(await openFileStore({ dir, readOnly: true }), {
      keyring: await createKeyring([
        { publicJwk: a.publicJwk, notAfter: rotatedAt - 1000 },
        { publicJwk: b.publicJwk },
      ]),
    })
    expect(window.findings[0]).toMatchObject({ code: 'CHECKPOINT_SIG_INVALID' })
  })

  it('keyring and signer refuse wrong keys; tampered JWS fails', async () => {
    const k = await generateCheckpointKey()
    await expect(createKeyring([{ publicJwk: k.privateJwk }])).rejects.toThrow(AuditKeyError)
    await expect(createKeyring([{ publicJwk: { kty: 'RSA', n: 'x', e: 'AQAB' } }])).rejects.toThrow(
      AuditKeyError,
    )
    await expect(createKeyring([{ publicJwk: k.publicJwk }, { publicJwk: k.publicJwk }])).rejects.toThrow(
      /duplicate/,
    )
    await expect(createCheckpointSigner(k.publicJwk)).rejects.toThrow(AuditKeyError)
    const signer = await createCheckpointSigner(k.privateJwk)
    expect(signer.kid).toBe(k.kid)
    const { signCheckpoint } = await import('../src/index.js')
    const jws = await signCheckpoint(signer, {
      index: 0,
      origin: 's',
      prev: '0'.repeat(64),
      root: new Uint8Array(32),
      size: 0,
      timestamp: '2026-01-01T00:00:00.000Z',
    })
    const keyring = await createKeyring([{ publicJwk: k.publicJwk }])
    expect((await keyring.verify(jws)).body.size).toBe(0)
    const o = JSON.parse(jws)
    const sig = o.signature as string
    o.signature = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1)
    await expect(keyring.verify(JSON.stringify(o))).rejects.toMatchObject({
      code: 'ERR_AUDIT_CHECKPOINT_SIGNATURE',
    })
    await expect(keyring.verify(JSON.stringify(o))).rejects.toThrow(CheckpointError)
    const stranger = await createKeyring([{ publicJwk: (await generateCheckpointKey()).publicJwk }])
    await expect(stranger.verify(jws)).rejects.toMatchObject({ code: 'ERR_AUDIT_UNKNOWN_KEY' })
    await expect(keyring.verify('not json')).rejects.toThrow(CheckpointError)
    await expect(keyring.verify('{"payload":"e30","protected":"e30","signature":""}')).rejects.toThrow(
      CheckpointError,
    )
  })
})

describe('checkpoint signature algorithms', () => {
  it('signs with alg Ed25519 (RFC 9864) and verifies the deprecated EdDSA too, nothing else', async () => {
    const k = await generateCheckpointKey()
    const keyring = await createKeyring([{ publicJwk: k.publicJwk }])
    const body = {
      index: 0,
      origin: 's',
      prev: '0'.repeat(64),
      root: `${'A'.repeat(43)}=`,
      size: 1,
      timestamp: '2026-01-01T00:00:00.000Z',
      typ: 'safeguards.audit-checkpoint',
      v: 1,
    }
    const payload = new TextEncoder().encode(canonicalize(body))
    const jws = await (await createCheckpointSigner(k.privateJwk)).sign(payload)
    expect(decodeProtectedHeader(JSON.parse(jws))).toMatchObject({ alg: 'Ed25519', kid: k.kid })
    const signWith = async (alg: string, key: Parameters<FlattenedSign['sign']>[0]) => {
      const f = await new FlattenedSign(payload)
        .setProtectedHeader({ alg, kid: k.kid, typ: 'audit-checkpoint+jws' })
        .sign(key)
      return JSON.stringify({ payload: f.payload, protected: f.protected, signature: f.signature })
    }
    for (const alg of ['Ed25519', 'EdDSA']) {
      const v = await keyring.verify(await signWith(alg, await importJWK(k.privateJwk, alg)))
      expect(v.body.size).toBe(1)
    }
    // an HMAC keyed with the public key's bytes, and any other algorithm, are refused
    const hs = await signWith('HS256', new TextEncoder().encode(String(k.publicJwk.x)))
    await expect(keyring.verify(hs)).rejects.toMatchObject({ code: 'ERR_AUDIT_CHECKPOINT_SIGNATURE' })
  })
})

describe('inclusion proof bundles', () => {
  it('proves a record offline and rejects altered bundles', async () => {
    const dir = tempDir()
    const key = await generateCheckpointKey()
    const log = await openAuditLog({
      store: await openFileStore({ dir, stream: 's' }),
      signer: await createCheckpointSigner(key.privateJwk),
      checkpointEvery: { records: 7, ms: 0 },
    })
    for (let i = 0; i < 20; i++) await log.append(event(i))
    await log.close()
    const store = await openFileStore({ dir, readOnly: true })
    const keyring = await createKeyring([{ publicJwk: key.publicJwk }])
    for (const seq of [0, 6, 7, 19]) {
      const bundle = await proveInclusion(store, seq)
      expect(await verifyInclusionBundle(bundle, keyring)).toMatchObject({ valid: true, kid: key.kid })
      const forged = { ...bundle, record: bundle.record.replace(`Patient/${seq}`, 'Patient/999') }
      expect((await verifyInclusionBundle(forged, keyring)).valid).toBe(false)
      const wrongSize = { ...bundle, checkpoint: { ...bundle.checkpoint, size: bundle.checkpoint.size + 1 } }
      expect((await verifyInclusionBundle(wrongSize, keyring)).valid).toBe(false)
      const wrongSeq = { ...bundle, seq: seq + 1 }
      expect((await verifyInclusionBundle(wrongSeq, keyring)).valid).toBe(false)
      if (bundle.proof.length > 0) {
        const cut = { ...bundle, proof: bundle.proof.slice(1) }
        expect((await verifyInclusionBundle(cut, keyring)).valid).toBe(false)
      }
    }
    await expect(proveInclusion(store, 20)).rejects.toThrow(RangeError)
    const cps = await store.readCheckpoints()
    expect(cps.length).toBeGreaterThanOrEqual(3)
    for (const [a, b] of [
      [cps[0]!, cps[cps.length - 1]!],
      [cps[1]!, cps[2]!],
      [cps[1]!, cps[1]!],
    ] as const) {
      const c = await proveConsistency(store, a, b)
      expect(await verifyConsistencyBundle(c, keyring)).toMatchObject({ valid: true })
      for (const resized of [
        { ...c, from: { ...c.from, size: c.from.size + 1 } },
        { ...c, to: { ...c.to, size: c.to.size - 1 } },
      ])
        expect(await verifyConsistencyBundle(resized, keyring)).toMatchObject({ valid: false })
      if (a.size < b.size) {
        const swapped = { ...c, from: c.to, to: c.from }
        expect((await verifyConsistencyBundle(swapped, keyring)).valid).toBe(false)
        const bad = {
          ...c,
          proof: c.proof.map((p, i) => (i === 0 ? p.replace(/^./, p[0] === 'A' ? 'B' : 'A') : p)),
        }
        expect((await verifyConsistencyBundle(bad, keyring)).valid).toBe(false)
      }
    }
    const other = await createKeyring([{ publicJwk: (await generateCheckpointKey()).publicJwk }])
    expect((await verifyInclusionBundle(await proveInclusion(store, 3), other)).valid).toBe(false)
  })
})
