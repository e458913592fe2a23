/**
 * A minimal PNG encoder (ISO/IEC 15948) for 1-bit greyscale images, enough for QR codes:
 * IHDR, one zlib-compressed IDAT (Web `CompressionStream('deflate')`), IEND, CRC-32 per chunk.
 */
import { concatBytes } from '@safeguards/core'

const CRC_TABLE = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff
  for (let i = 0; i < bytes.length; i++)
    c = (CRC_TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length)
  const view = new DataView(out.buffer)
  view.setUint32(0, data.length)
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i)
  out.set(data, 8)
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)))
  return out
}

async function deflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as BlobPart]).stream().pipeThrough(new CompressionStream('deflate'))
  return new Uint8Array(await new Response(stream).arrayBuffer())
}

/** Encodes a boolean matrix (true = dark) as a 1-bit PNG, `scale` pixels per module, `border` modules of margin. */
export async function encodeMonochromePng(
  matrix: readonly (readonly boolean[])[],
  scale: number,
  border: number,
): Promise<Uint8Array> {
  const modules = matrix.length
  const size = (modules + 2 * border) * scale
  const rowBytes = Math.ceil(size / 8)
  const raw = new Uint8Array((rowBytes + 1) * size)
  for (let y = 0; y < size; y++) {
    const my = Math.floor(y / scale) - border
    const row = y * (rowBytes + 1) // filter byte 0 (None) at the start of each row
    for (let x = 0; x < size; x++) {
      const mx = Math.floor(x / scale) - border
      const dark = my >= 0 && my < modules && mx >= 0 && mx < modules && matrix[my]?.[mx] === true
      // Greyscale 1-bit: 1 = white. Set white bits.
      if (!dark) raw[row + 1 + (x >> 3)]! |= 0x80 >> (x & 7)
    }
  }
  const ihdr = new Uint8Array(13)
  const v = new DataView(ihdr.buffer)
  v.setUint32(0, size)
  v.setUint32(4, size)
  ihdr[8] = 1 // bit depth
  ihdr[9] = 0 // greyscale
  return concatBytes(
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', await deflate(raw)),
    chunk('IEND', new Uint8Array(0)),
  )
}
