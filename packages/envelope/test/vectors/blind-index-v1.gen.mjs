// Writes blind-index-v1.json with node:crypto only (hkdfSync, createHmac), independently of the library:
//   node test/vectors/blind-index-v1.gen.mjs test/vectors/blind-index-v1.json
import { createHmac, hkdfSync } from 'node:crypto'
import { writeFileSync } from 'node:fs'

const u16 = (n) => Buffer.from([n >> 8, n & 255])
function info(name, bits, tenant) {
  const n = Buffer.from(name, 'utf8')
  const t = tenant === undefined ? Buffer.alloc(0) : Buffer.from(tenant, 'utf8')
  return Buffer.concat([
    Buffer.from('hge/bidx/v1'),
    Buffer.from([0]),
    u16(bits),
    u16(n.length),
    n,
    Buffer.from([tenant === undefined ? 0 : 1]),
    u16(t.length),
    t,
  ])
}
function value(root, name, bits, tenant, msg) {
  const k = Buffer.from(hkdfSync('sha256', root, Buffer.alloc(0), info(name, bits, tenant), 32))
  const t = createHmac('sha256', k).update(msg).digest()
  const len = Math.ceil(bits / 8)
  const out = t.subarray(0, len)
  if (bits % 8) out[len - 1] &= (0xff << (8 - (bits % 8))) & 0xff
  return { indexKey: k.toString('hex'), value: out.toString('hex') }
}
const root = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex')
const cases = [
  { name: 'patients.ssn', bits: 15, normalized: '123456789' },
  { name: 'patients.ssn', bits: 16, normalized: '123456789' },
  { name: 'patients.ssn', bits: 32, normalized: '123456789' },
  { name: 'patients.ssn', bits: 1, normalized: '123456789' },
  { name: 'patients.ssn', bits: 12, normalized: '987654320' },
  { name: 'patients.ssn', bits: 15, tenant: 'clinic-7', normalized: '123456789' },
  { name: 'patients.ssn', bits: 15, tenant: 'clinic-8', normalized: '123456789' },
  { name: 'patients.phone', bits: 14, normalized: '15550100100' },
  { name: 'patients.email', bits: 16, normalized: 'jane.doe@example.org' },
  { name: 'patients.email', bits: 16, tenant: 'ünïcode-tenant', normalized: 'straße@例え.jp' },
  { name: 'patients.birth_date', bits: 7, normalized: '1980-03-12' },
]
const out = cases.map((c) => ({
  ...c,
  messageHex: Buffer.from(c.normalized, 'utf8').toString('hex'),
  ...value(root, c.name, c.bits, c.tenant, Buffer.from(c.normalized, 'utf8')),
}))
// compound: lastName 'doe' + birthDate '1980-03-12', sorted by field name
const pack = (pairs) => {
  const parts = [Buffer.alloc(4)]
  parts[0].writeUInt32BE(pairs.length)
  for (const [k, v] of pairs)
    for (const x of [k, v]) {
      const b = Buffer.from(x, 'utf8')
      const l = Buffer.alloc(4)
      l.writeUInt32BE(b.length)
      parts.push(l, b)
    }
  return Buffer.concat(parts)
}
const msg = pack([
  ['birthDate', '1980-03-12'],
  ['lastName', 'doe'],
])
out.push({
  name: 'patients.last_name+birth_date',
  bits: 14,
  tenant: 'clinic-7',
  compound: { lastName: 'doe', birthDate: '1980-03-12' },
  messageHex: msg.toString('hex'),
  ...value(root, 'patients.last_name+birth_date', 14, 'clinic-7', msg),
})
writeFileSync(
  process.argv[2],
  JSON.stringify(
    {
      description:
        'Blind index v1 known answers (packages/envelope/src/blind-index.ts): HKDF-SHA-256 index key, truncated HMAC-SHA-256, lowercase hex. Generated with node:crypto only (hkdfSync, createHmac), independently of the library.',
      rootKeyHex: root.toString('hex'),
      vectors: out,
    },
    null,
    2,
  ) + '\n',
)
