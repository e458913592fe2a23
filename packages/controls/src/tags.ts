/**
 * The control-mapping TSDoc tags that every security-relevant export carries, and their parser.
 *
 * ```
 *  * @hipaa 164.312(a)(2)(iii) implements
 *  * @nist AC-12 164.312(a)(2)(iii)
 *  * @nist AC-12(1) 164.312(a)(2)(iii): logout and revokeAll end sessions on demand
 *  * @evidence a `session.expired` event with the session id digest and the reason
 *  * @appResponsibility Choose the idle timeout from your risk analysis.
 *  * @config idleTimeoutMs, absoluteTimeoutMs, roles
 *  * @verifiedBy packages/session/test/manager.test.ts
 * ```
 *
 * `@hipaa` takes a CFR paragraph and `implements` (the API performs the specification's technical
 * function on its own) or `supports` (it helps; the specification is met only with the app team's
 * work). `@nist` takes one (SP 800-53 Rev. 5 control, HIPAA paragraph) pair, the paragraph being
 * one of the API's `@hipaa` paragraphs, and after a colon a one-line rationale. Provenance is
 * not written in the tag: the coverage builder looks the pair up in NIST's own table
 * (`data/nist-sp800-66r2.json`); a pair that is not there is engineering judgement and must
 * carry the rationale.
 *
 * @module
 */
import { ControlTagError } from './errors.js'

/** How an API serves a HIPAA paragraph. */
export type CoverageLevel = 'implements' | 'supports'

/** One `@nist` tag: a (control, HIPAA paragraph) pair with an optional rationale. */
export interface NistTag {
  control: string
  citation: string
  /** Why the API serves this control for this paragraph; required unless the pair is NIST's own. */
  rationale: string | null
}

/** The tags of one exported API. */
export interface ControlTags {
  hipaa: { citation: string; level: CoverageLevel }[]
  nist: NistTag[]
  evidence: string[]
  appResponsibility: string[]
  config: string[]
  verifiedBy: string[]
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
 * parseControlTags('@hipaa 164.312(b) supports\n@nist AU-2 164.312(b)').nist // [{ control: 'AU-2', citation: '164.312(b)', rationale: null }]
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
        const m = /^([A-Z]{2}-\d+(?:\(\d+\))?)\s+(\d{3}\.\d{3}(?:\([0-9a-zA-Z]+\))+)(?::\s*(\S.*))?$/.exec(
          text,
        )
        if (!m)
          throw new ControlTagError('expected "@nist <SP 800-53 id> <CFR paragraph>[: rationale]"', line)
        out.nist.push({ control: m[1] as string, citation: m[2] as string, rationale: m[3] ?? null })
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
