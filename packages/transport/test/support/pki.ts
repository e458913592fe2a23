/**
 * Test PKI made at run time with the `openssl` command (nothing committed): a CA, and leaf
 * certificates for localhost that are good, expiring soon, expired (issued by `openssl ca` with
 * dates in 2024), for the wrong host, self-signed, or for a client. And `openssl s_server` peers
 * on 127.0.0.1 with a random port. `openssl` is required: a missing binary fails the tests (it is
 * in .ci/apt-packages), never skips them.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Runs openssl; throws with its stderr on failure. */
export function openssl(args: string[], cwd: string): string {
  return execFileSync('openssl', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

/** The openssl version line, or throws (a missing openssl is a failure, not a skip). */
export function requireOpenssl(): string {
  try {
    return execFileSync('openssl', ['version'], { encoding: 'utf8' }).trim()
  } catch (cause) {
    throw new Error('the openssl command is required by these tests (apt-get install openssl)', { cause })
  }
}

export interface Pki {
  dir: string
  caCert: string
  /** paths */
  files: Record<string, string>
  pem(name: string): string
  cleanup(): void
}

const CA_CNF = `[ca]
default_ca = ca_default
[ca_default]
dir = .
database = index.txt
new_certs_dir = newcerts
serial = serial
default_md = sha256
policy = policy_any
copy_extensions = copy
unique_subject = no
[policy_any]
commonName = supplied
`

/** Makes the PKI in a fresh temporary directory. */
export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'sg-transport-pki-'))
  const run = (...args: string[]): string => openssl(args, dir)
  writeFileSync(join(dir, 'ca.cnf'), CA_CNF)
  writeFileSync(join(dir, 'index.txt'), '')
  writeFileSync(join(dir, 'serial'), '1000\n')
  mkdirSync(join(dir, 'newcerts'))
  // the CA (EC P-256), and a second, unrelated CA for refused client certificates
  for (const ca of ['ca', 'other-ca']) {
    run('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${ca}.key`)
    run(
      'req',
      '-x509',
      '-new',
      '-key',
      `${ca}.key`,
      '-sha256',
      '-days',
      '3650',
      '-subj',
      `/CN=Safeguards test ${ca}`,
      '-addext',
      'basicConstraints=critical,CA:true',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      `${ca}.pem`,
    )
  }
  const csr = (name: string, san: string, key: 'rsa' | 'ec'): void => {
    if (key === 'rsa')
      run('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', `${name}.key`)
    else run('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`)
    run(
      'req',
      '-new',
      '-key',
      `${name}.key`,
      '-subj',
      `/CN=${name}`,
      '-addext',
      `subjectAltName=${san}`,
      '-out',
      `${name}.csr`,
    )
  }
  const leaf = (name: string, san: string, days: number, key: 'rsa' | 'ec' = 'rsa', ca = 'ca'): void => {
    csr(name, san, key)
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\n`)
    run(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.pem`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-days',
      String(days),
      '-sha256',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    )
  }
  leaf('good', 'DNS:localhost,IP:127.0.0.1', 365)
  leaf('good-ec', 'DNS:localhost', 365, 'ec')
  leaf('soon', 'DNS:localhost', 20)
  leaf('wrong-host', 'DNS:other.test', 365)
  leaf('client', 'DNS:billing.service.test', 365, 'ec')
  leaf('stranger', 'DNS:stranger.service.test', 365, 'ec', 'other-ca')
  // certificates for January 2024 (openssl ca can backdate; x509 -not_before needs OpenSSL 3.4)
  for (const [name, ca] of [
    ['expired', 'ca'],
    ['expired-stranger', 'other-ca'],
  ] as const) {
    csr(name, 'DNS:localhost', 'rsa')
    const dates = ['-startdate', '20240101000000Z', '-enddate', '20240201000000Z']
    run(
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-cert',
      `${ca}.pem`,
      '-keyfile',
      `${ca}.key`,
      '-in',
      `${name}.csr`,
      ...dates,
      '-notext',
      '-out',
      `${name}.pem`,
    )
  }
  run(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'self.key',
    '-out',
    'self.pem',
    '-days',
    '365',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost',
  )
  const pem = (name: string): string => readFileSync(join(dir, name), 'utf8')
  return {
    dir,
    caCert: pem('ca.pem'),
    files: { ca: join(dir, 'ca.pem') },
    pem,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  }
}

export interface Peer {
  port: number
  stop(): Promise<void>
}

/** Starts `openssl s_server -www` on 127.0.0.1 with a random port and waits for its ACCEPT line. */
export function sServer(dir: string, name: string, args: string[]): Promise<Peer> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      'openssl',
      ['s_server', '-accept', '127.0.0.1:0', '-cert', `${name}.pem`, '-key', `${name}.key`, '-www', ...args],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let out = ''
    const timer = setTimeout(() => reject(new Error(`s_server did not start: ${out}`)), 10_000)
    const onData = (c: Uint8Array): void => {
      out += new TextDecoder().decode(c)
      const m = /ACCEPT 127\.0\.0\.1:(\d+)/.exec(out)
      if (m === null) return
      clearTimeout(timer)
      resolve({
        port: Number(m[1]),
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done()
            child.once('exit', () => done())
            child.kill('SIGTERM')
          }),
      })
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`s_server exited with ${code}: ${out}`))
    })
  })
}

/** Runs `run` with an s_server peer of `name`'s certificate and `args`, then stops the peer. */
export async function withPeer(
  pki: Pki,
  name: string,
  args: string[],
  run: (peer: Peer) => Promise<void>,
): Promise<void> {
  const peer = await sServer(pki.dir, name, args)
  try {
    await run(peer)
  } finally {
    await peer.stop()
  }
}
