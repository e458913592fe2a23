/**
 * Streaming 1 GiB through the CLI (`safeguards encrypt | safeguards decrypt`, two processes):
 * peak RSS of each process (target < 128 MiB). A custom-measure scenario ({@link cliRssScenario},
 * listed in `envelope.bench.ts`); the harness prints the per-process figures from `extra`.
 * It runs the built CLI (`pnpm build` first, as users run it) and falls back to the TypeScript
 * source through tsx, whose loader adds its own memory to the figure.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Scenario } from '../../../scripts/bench/types.ts'

const MiB = 1024 * 1024

/** The CLI: built dist when present, else the TypeScript source through tsx. */
function cliCommand(): { cmd: string; args: string[]; label: string } {
  const root = resolve(import.meta.dirname, '../../..')
  const dist = join(root, 'packages/cli/dist/bin.js')
  if (existsSync(dist)) return { cmd: process.execPath, args: [dist], label: 'dist' }
  return {
    cmd: process.execPath,
    args: ['--conditions=@safeguards/source', '--import', 'tsx', join(root, 'packages/cli/src/bin.ts')],
    label: 'tsx source',
  }
}

/**
 * Preloaded into each CLI process: reports its peak RSS on exit. It reads the process's own
 * high-water mark (`VmHWM` in /proc/self/status) because `resourceUsage().maxRSS` (getrusage)
 * keeps the parent's peak across fork+exec on Linux: spawned from the bench process, which holds
 * the 64 MiB stream fixtures, every child would report the parent's ~220 MiB. Elsewhere it falls
 * back to maxRSS.
 */
const RSS_PROBE = `data:text/javascript,${encodeURIComponent(
  'import{readFileSync}from"node:fs";process.on("exit",()=>{let k=process.resourceUsage().maxRSS;' +
    'try{const l=readFileSync("/proc/self/status","utf8").split("\\n").find((x)=>x.startsWith("VmHWM:"));' +
    'if(l)k=Number.parseInt(l.slice(6),10)}catch{}process.stderr.write("\\nmaxrss="+k+"\\n")})',
)}`

export async function cliPeakRss(): Promise<{ value: number; extra: Record<string, string> }> {
  const dir = await mkdtemp(join(tmpdir(), 'sg-bench-cli-'))
  try {
    const { cmd, args, label } = cliCommand()
    const keyring = join(dir, 'k.json')
    await new Promise<void>((res, rej) => {
      const p = spawn(cmd, [...args, 'keys', 'init', '--keyring', keyring], { stdio: 'ignore' })
      p.on('exit', (code) => (code === 0 ? res() : rej(new Error(`keys init exited ${code}`))))
    })
    const total = 1024 * MiB
    const opts = { stdio: ['pipe', 'pipe', 'pipe'] as ['pipe', 'pipe', 'pipe'] }
    const enc = spawn(
      cmd,
      ['--import', RSS_PROBE, ...args, 'encrypt', '--keyring', keyring, '--context', 'job=bench'],
      opts,
    )
    const dec = spawn(
      cmd,
      ['--import', RSS_PROBE, ...args, 'decrypt', '--keyring', keyring, '--context', 'job=bench'],
      opts,
    )
    const errs = ['', '']
    enc.stderr.on('data', (d: Buffer) => (errs[0] += d.toString()))
    dec.stderr.on('data', (d: Buffer) => (errs[1] += d.toString()))
    enc.stdout.pipe(dec.stdin)
    let seen = 0
    dec.stdout.on('data', (d: Buffer) => (seen += d.length))
    const started = performance.now()
    const chunk = Buffer.alloc(MiB, 0x61)
    for (let sent = 0; sent < total; sent += chunk.length) {
      if (!enc.stdin.write(chunk)) await new Promise((r) => enc.stdin.once('drain', r))
    }
    enc.stdin.end()
    const codes = await Promise.all([enc, dec].map((p) => new Promise<number | null>((r) => p.on('exit', r))))
    const seconds = (performance.now() - started) / 1000
    if (codes.some((c) => c !== 0) || seen !== total)
      throw new Error(`CLI pipeline failed: ${codes} ${seen} ${errs.join(' ')}`)
    const rss = errs.map((e) => Number(/maxrss=(\d+)/.exec(e)?.[1] ?? Number.NaN) / 1024)
    return {
      value: Math.max(...rss),
      extra: {
        'encrypt RSS': `${rss[0]?.toFixed(0)} MiB`,
        'decrypt RSS': `${rss[1]?.toFixed(0)} MiB`,
        throughput: `${(total / MiB / seconds).toFixed(0)} MiB/s`,
        cli: label,
      },
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** The scenario, in the harness's shape. */
export const cliRssScenario: Scenario = {
  name: 'CLI encrypt | decrypt, 1 GiB, peak RSS',
  unit: 'MiB',
  lowerIsBetter: true,
  ours: { name: 'safeguards encrypt | safeguards decrypt', measure: cliPeakRss },
  target: { value: 128, text: '< 128 MiB peak RSS' },
}
