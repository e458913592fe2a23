/**
 * The control-mapping TSDoc tags that every security-relevant export carries, and their parser.
 *
 * ```
 *  * @hipaa 164.312(a)(2)(iii) implements
 *  * @nist AC-12 cprt
 *  * @nist AC-12(1) engineering
 *  * @evidence a `session.expired` event with the session id digest and the reason
 *  * @appResponsibility Choose the idle timeout from your risk analysis.
 *  * @config idleTimeoutMs, absoluteTimeoutMs, roles
 *  * @verifiedBy packages/session/test/manager.test.ts
 * ```
 *
 * `@hipaa` takes a CFR paragraph and `implements` or `supports`. `@nist` takes a SP 800-53 Rev. 5
 * id and its provenance: `cprt` when NIST's own mapping (SP 800-66r2 / the CPRT HIPAA mapping)
 * relates the HIPAA paragraph to that control, `engineering` when the mapping is our judgement.
 *
 * @module
 */

/** How an API serves a HIPAA paragraph. */
export type CoverageLevel = 'implements' | 'supports'

/** Where a NIST mapping comes from. */
export type MappingSource = 'cprt' | 'engineering'

/** The tags of one exported API. */
export interface ControlTags {
  hipaa: { citation: string; level: CoverageLevel }[]
  nist: { control: string; source: MappingSource }[]
  evidence: string[]
  appResponsibility: string[]
  config: string[]
  verifiedBy: string[]
}

/** A malformed control tag. */
export class ControlTagError extends Error {
  /** The offending tag line. */
  readonly line: string
  /** @param message - what is wrong; @param line - the tag line. */
  constructor(message: string, line: string) {
    super(`${message}: ${line}`)
    this.name = 'ControlTagError'
    this.line = line
  }
}

const TAGS = ['hipaa', 'nist', 'evidence', 'appResponsibility', 'config', 'verifiedBy'] as const

/**
 * Parses the control tags out of a TSDoc comment's text (with or without the leading `*`).
 * Other tags are ignored; a tag's text runs until the next tag or the end of the comment.
 *
 * HIPAA: supports 164.316(b)(1) documentation (mappings live next to the code they describe).
 *
 * @throws {ControlTagError} for a malformed `@hipaa` or `@nist` line.
 * @example
 * ```ts
 * parseControlTags('@hipaa 164.312(b) implements\n@nist AU-2 cprt').hipaa // [{ citation: '164.312(b)', level: 'implements' }]
 * ```
 */
export function parseControlTags(comment: string): ControlTags {
  const out: ControlTags = {
    hipaa: [],
    nist: [],
    evidence: [],
    appResponsibility: [],
    config: [],
    verifiedBy: [],
  }
  const lines = comment
    .replace(/^\s*\/\*\*?/, '')
    .replace(/\*\/\s*$/, '')
    .split('\n')
    .map((l) => l.replace(/^\s*\*\s?/, ''))
  let current: { tag: (typeof TAGS)[number]; text: string[] } | undefined
  const flush = (): void => {
    if (!current) return
    const text = current.text.join(' ').replace(/\s+/g, ' ').trim()
    const line = `@${current.tag} ${text}`
    switch (current.tag) {
      case 'hipaa': {
        const m = /^(\d{3}\.\d{3}(?:\([0-9a-zA-Z]+\))+)\s+(implements|supports)$/.exec(text)
        if (!m) throw new ControlTagError('expected "@hipaa <CFR paragraph> implements|supports"', line)
        out.hipaa.push({ citation: m[1] as string, level: m[2] as CoverageLevel })
        break
      }
      case 'nist': {
        const m = /^([A-Z]{2}-\d+(?:\(\d+\))?)\s+(cprt|engineering)$/.exec(text)
        if (!m) throw new ControlTagError('expected "@nist <SP 800-53 id> cprt|engineering"', line)
        out.nist.push({ control: m[1] as string, source: m[2] as MappingSource })
        break
      }
      case 'config':
        out.config.push(
          ...text
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        )
        break
      default:
        if (text === '') throw new ControlTagError('empty tag', line)
        out[current.tag].push(text)
    }
    current = undefined
  }
  for (const raw of lines) {
    const m = /^@([A-Za-z]+)\b\s*(.*)$/.exec(raw.trim())
    if (m) {
      flush()
      const tag = m[1] as string
      if ((TAGS as readonly string[]).includes(tag))
        current = { tag: tag as (typeof TAGS)[number], text: [m[2] ?? ''] }
      continue
    }
    current?.text.push(raw)
  }
  flush()
  return out
}
