/**
 * PEM inputs: text, or the bytes of a PEM file (`readFileSync` gives bytes). Node's option types
 * want `string | Buffer`; PEM is text, so bytes are decoded once here and `Buffer` never appears.
 *
 * @module
 */
import { TransportConfigError } from '../errors.js'

/** A PEM document: its text, or its bytes as read from a file. */
export type Pem = string | Uint8Array

const decoder = new TextDecoder('utf-8', { fatal: true })

/** The text of one PEM input. */
export function pemText(value: Pem, name: string): string {
  let text: string
  if (typeof value === 'string') text = value
  else if (value instanceof Uint8Array) {
    try {
      text = decoder.decode(value)
    } catch (cause) {
      throw new TransportConfigError(`"${name}" is not PEM text`, { cause })
    }
  } else throw new TypeError(`"${name}" expected a PEM string or Uint8Array`)
  if (!text.includes('-----BEGIN ')) throw new TransportConfigError(`"${name}" is not PEM text`)
  return text
}

/** One PEM input or several, as a list of texts. */
export function pemList(value: Pem | readonly Pem[], name: string): string[] {
  const list = Array.isArray(value) ? (value as readonly Pem[]) : [value as Pem]
  if (list.length === 0) throw new TransportConfigError(`"${name}" must name at least one certificate`)
  return list.map((v, i) => pemText(v, list.length === 1 ? name : `${name}[${i}]`))
}
