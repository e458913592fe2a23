/** The shared argument parser: messages that name the mistake, and "did you mean" suggestions. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type Command,
  parseCommandArgs,
  runCli,
  suggest,
  UsageError,
  unknownSubcommand,
} from '../src/index.js'
import { fakeIO } from './helpers.js'

const options = {
  'public-key': { type: 'string' },
  keyring: { type: 'string' },
  json: { type: 'boolean' },
  out: { type: 'string', short: 'o' },
  'max-age': { type: 'string' },
} as const

const message = (argv: string[]): string => {
  try {
    parseCommandArgs(argv, options, [0, 1])
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError)
    return (e as Error).message
  }
  throw new Error('expected a usage error')
}

describe('parseCommandArgs messages', () => {
  it.each([
    [['--publc-key', 'k.jwk'], 'unknown option --publc-key; did you mean --public-key?'],
    [['--publickey', 'k.jwk'], 'unknown option --publickey; did you mean --public-key?'],
    [['--pubilc-key=k.jwk'], 'unknown option --pubilc-key; did you mean --public-key?'],
    [['--jsno'], 'unknown option --jsno; did you mean --json?'],
    [['--JSON'], 'unknown option --JSON; did you mean --json?'],
    [['--keyrnig', 'k'], 'unknown option --keyrnig; did you mean --keyring?'],
    [['--max'], 'unknown option --max; did you mean --max-age?'],
    [['--bogus'], 'unknown option --bogus'],
    [['--verbose'], 'unknown option --verbose'],
    [['-x'], 'unknown option -x'],
    [['--keyring'], '--keyring expects a value'],
    [
      ['--keyring', '--json'],
      '--keyring expects a value (for a value that starts with "-", write --keyring=VALUE)',
    ],
    [['--json=yes'], '--json does not take a value'],
    [['a', 'b'], 'unexpected argument at position 2'],
  ])('%j → %s', (argv, expected) => {
    expect(message(argv)).toBe(expected)
  })

  it('never echoes more than 64 characters of a mistyped option', () => {
    const long = `--${'x'.repeat(500)}`
    expect(message([long]).length).toBeLessThan(100)
  })

  it('goes through every command: a mistyped option names the nearest one', async () => {
    const f = fakeIO()
    expect(await runCli(['inspect', '--jsn'], f.io)).toBe(2)
    expect(f.stderr()).toBe('safeguards inspect: unknown option --jsn; did you mean --json?\n')
    const g = fakeIO()
    expect(await runCli(['encrypt', '--keyrign', 'k.json'], g.io)).toBe(2)
    expect(g.stderr()).toBe('safeguards encrypt: unknown option --keyrign; did you mean --keyring?\n')
    const h = fakeIO()
    expect(await runCli(['encrpyt'], h.io)).toBe(2)
    expect(h.stderr()).toContain('unknown command "encrpyt"; did you mean encrypt?')
  })

  it('unknown subcommands name the nearest one', async () => {
    expect(unknownSubcommand('keys', 'rotat', ['init', 'rotate', 'list']).message).toBe(
      'unknown subcommand keys rotat; did you mean rotate? (expected init, rotate or list)',
    )
    expect(unknownSubcommand('keys', undefined, ['init', 'list']).message).toBe(
      'expected a subcommand: init or list',
    )
    const f = fakeIO()
    expect(await runCli(['keys', 'lsit', '--keyring', 'k.json'], f.io)).toBe(2)
    expect(f.stderr()).toContain('did you mean list?')
  })
})

describe('commands made of subcommands', () => {
  it.each(['access', 'audit', 'backup', 'hsm', 'keys', 'password', 'session', 'transit'])(
    '%s: a missing or mistyped subcommand is exit 2 naming the nearest; help and SUB --help print the usage',
    async (name) => {
      const none = fakeIO()
      expect(await runCli([name], none.io)).toBe(2)
      expect(none.stderr()).toMatch(
        new RegExp(`^safeguards ${name}: expected a subcommand: [a-z-]+(, [a-z-]+)*( or [a-z-]+)?\\n$`),
      )
      const typo = fakeIO()
      expect(await runCli([name, 'zzzz'], typo.io)).toBe(2)
      expect(typo.stderr()).toMatch(
        new RegExp(`^safeguards ${name}: unknown subcommand ${name} zzzz \\(expected `),
      )
      const help = fakeIO()
      expect(await runCli([name, 'help'], help.io)).toBe(0)
      expect(help.stdout()).toMatch(/^Usage/)
      const first = /expected a subcommand: ([a-z-]+)/.exec(none.stderr())?.[1] as string
      const subHelp = fakeIO()
      expect(await runCli([name, first, '--help'], subHelp.io)).toBe(0)
      expect(subHelp.stdout()).toBe(help.stdout())
      expect(subHelp.stderr() + help.stderr()).toBe('')
    },
  )
})

describe('integer options', () => {
  it('take decimal digits only, within the range the message names', async () => {
    for (const bad of ['0', '-1', '1e3', '0x10', ' 5', '5 ', '1000', '']) {
      const f = fakeIO()
      expect(await runCli(['backup', 'verify', '.', `--concurrency=${bad}`], f.io), bad).toBe(2)
      expect(f.stderr()).toBe('safeguards backup: --concurrency expects a positive integer\n')
    }
    const v = fakeIO()
    expect(await runCli(['keys', 'promote', '--keyring', 'k.json', '--version', '1.5'], v.io)).toBe(2)
    expect(v.stderr()).toBe('safeguards keys: --version expects a positive integer\n')
    const missing = fakeIO()
    expect(await runCli(['keys', 'promote', '--keyring', 'k.json'], missing.io)).toBe(2)
    expect(missing.stderr()).toBe('safeguards keys: --version is required\n')
  })
})

describe('suggest', () => {
  it('suggests only close words', () => {
    expect(suggest('publc-key', ['public-key', 'keyring'])).toBe('public-key')
    expect(suggest('ab', ['ac'])).toBe('ac')
    expect(suggest('ab', ['cd'])).toBeUndefined()
    expect(suggest('zzzzzz', ['public-key'])).toBeUndefined()
    expect(suggest('a', ['b'])).toBeUndefined() // one edit is the whole word: no guess
    expect(suggest('pub', ['public-key', 'publish'])).toBeUndefined() // ambiguous abbreviation
  })

  const word = fc.stringMatching(/^[a-z][a-z-]{4,14}$/)

  it('property: a known word suggests itself', () => {
    fc.assert(
      fc.property(fc.uniqueArray(word, { minLength: 1, maxLength: 8 }), fc.nat(), (known, i) => {
        const w = known[i % known.length] as string
        expect(suggest(w, known)).toBe(w)
      }),
    )
  })

  it('property: one typo (substitution, deletion, insertion or swap) in a word of 5+ letters is caught', () => {
    const typo = fc
      .tuple(word, fc.nat(), fc.constantFrom('sub', 'del', 'ins', 'swap'), fc.constantFrom(...'qxz'))
      .map(([w, n, kind, c]) => {
        const i = n % (w.length - 1)
        const typed =
          kind === 'sub'
            ? `${w.slice(0, i)}${c}${w.slice(i + 1)}`
            : kind === 'del'
              ? `${w.slice(0, i)}${w.slice(i + 1)}`
              : kind === 'ins'
                ? `${w.slice(0, i)}${c}${w.slice(i)}`
                : `${w.slice(0, i)}${w[i + 1]}${w[i]}${w.slice(i + 2)}`
        return { w, typed }
      })
    fc.assert(
      fc.property(typo, fc.array(word, { maxLength: 6 }), ({ w, typed }, others) => {
        // Another word may be as close; a suggestion is always made, and the intended word is never
        // beaten by a farther one.
        const s = suggest(typed, [w, ...others])
        expect(s).toBeDefined()
        if (!others.includes(typed)) expect(suggest(typed, [w])).toBe(w)
      }),
    )
  })

  it('property: never throws and suggests only a known word', () => {
    fc.assert(
      fc.property(fc.string(), fc.array(fc.string()), (w, known) => {
        const s = suggest(w, known)
        if (s !== undefined) expect(known).toContain(s)
      }),
    )
  })
})

describe('parseCommandArgs inside a command', () => {
  const cmd: Command = {
    name: 'probe',
    summary: 'x',
    usage: 'Usage: safeguards probe',
    async run({ argv }) {
      parseCommandArgs(argv, options)
      return 0
    },
  }
  it('works outside runCli too (no run state)', () => {
    expect(parseCommandArgs(['--json'], options).values.json).toBe(true)
  })
  it('reports through the runner', async () => {
    const f = fakeIO()
    expect(await runCli(['probe', '--out'], f.io, { commands: [cmd] })).toBe(2)
    expect(f.stderr()).toBe('safeguards probe: --out expects a value\n')
  })
})
