/**
 * The narrow, typed surface of the `pkcs11js` binding that this package uses, and a per-process
 * registry of loaded PKCS#11 libraries.
 *
 * A PKCS#11 library may be initialised once per process (`C_Initialize` answers
 * `CKR_CRYPTOKI_ALREADY_INITIALIZED` the second time), and the login state belongs to the
 * application, not to a session. So every provider that names the same library shares one loaded
 * instance here, reference-counted: the last `release` calls `C_Finalize`.
 *
 * `pkcs11js` (PeculiarVentures) is an N-API addon: one build loads on every Node major (checked on
 * Node 20 and 24). It is loaded lazily, on the first `open`, so importing this package never loads
 * native code. Its types speak `Buffer`; `Uint8Array` is accepted at runtime (N-API
 * `napi_is_buffer` accepts any `Uint8Array`), so this file declares the subset we call with
 * `Uint8Array` and keeps `Buffer` out of the package.
 *
 * @module
 */
import { errorCode } from '@safeguards/core/node'
import { Pkcs11ModuleError } from '../errors.js'

/** An opaque PKCS#11 handle (slot, session or object): `CK_ULONG` bytes. */
export type Handle = Uint8Array

/** One attribute of a template. */
export interface Attribute {
  type: number
  value?: number | boolean | string | Uint8Array
}

/** A mechanism with its parameter. */
export interface Mechanism {
  mechanism: number
  parameter?: Uint8Array | number | { type: number; [k: string]: unknown }
}

/** The token fields we read (all strings are blank-padded by the token). */
export interface TokenInfo {
  label: string
  manufacturerID: string
  model: string
  serialNumber: string
  flags: number
}

/** What `C_GetMechanismInfo` returns. */
export interface MechanismInfo {
  minKeySize: number
  maxKeySize: number
  flags: number
}

type Callback<T> = (error: Error | null, value: T) => void

/** The functions of `pkcs11js.PKCS11` this package calls. */
export interface Pkcs11Library {
  load(path: string): void
  C_Initialize(options?: { flags?: number }): void
  C_Finalize(): void
  C_GetSlotList(tokenPresent?: boolean): Handle[]
  C_GetTokenInfo(slot: Handle): TokenInfo
  C_GetMechanismInfo(slot: Handle, mechanism: number): MechanismInfo
  C_OpenSession(slot: Handle, flags: number): Handle
  C_CloseSession(session: Handle): void
  C_Login(session: Handle, userType: number, pin?: string): void
  C_FindObjectsInit(session: Handle, template: Attribute[]): void
  C_FindObjects(session: Handle, max: number): Handle[]
  C_FindObjectsFinal(session: Handle): void
  C_GetAttributeValue(session: Handle, object: Handle, template: Attribute[]): Attribute[]
  C_SetAttributeValue(session: Handle, object: Handle, template: Attribute[]): void
  C_GenerateKey(session: Handle, mechanism: Mechanism, template: Attribute[]): Handle
  C_CreateObject(session: Handle, template: Attribute[]): Handle
  C_DestroyObject(session: Handle, object: Handle): void
  C_EncryptInit(session: Handle, mechanism: Mechanism, key: Handle): void
  C_Encrypt(session: Handle, input: Uint8Array, output: Uint8Array, cb: Callback<Uint8Array>): void
  C_DecryptInit(session: Handle, mechanism: Mechanism, key: Handle): void
  C_Decrypt(session: Handle, input: Uint8Array, output: Uint8Array, cb: Callback<Uint8Array>): void
}

/** The `pkcs11js` module: the class and the numeric constants (`CKA_*`, `CKM_*`, `CKR_*`, …). */
export interface Pkcs11Module {
  PKCS11: new () => Pkcs11Library
  [constant: string]: unknown
}

let bindingPromise: Promise<Pkcs11Module> | undefined

/** Loads `pkcs11js` once. */
export function loadBinding(): Promise<Pkcs11Module> {
  bindingPromise ??= import('pkcs11js').then(
    (m) => ((m as { default?: unknown }).default ?? m) as Pkcs11Module,
    (e: unknown) => {
      bindingPromise = undefined
      const missing =
        errorCode(e) === 'ERR_MODULE_NOT_FOUND' &&
        String((e as { message?: unknown }).message).includes("'pkcs11js'")
      throw new Pkcs11ModuleError(
        missing
          ? 'the pkcs11js native binding is not installed: npm install pkcs11js'
          : 'the pkcs11js native binding cannot be loaded',
        { cause: e },
      )
    },
  )
  return bindingPromise
}

/** Reads a numeric constant from the binding (throws if the binding lacks it: a programming error). */
export function constant(binding: Pkcs11Module, name: string): number {
  const v = binding[name]
  if (typeof v !== 'number') throw new Pkcs11ModuleError(`the pkcs11js binding has no constant ${name}`)
  return v
}

const CKR = /\b(CKR_[A-Z0-9_]+)\b/

/**
 * The `CKR_*` name of a binding error, or `undefined` when the error did not come from the token.
 * Only the name is ever put in a message: binding messages may include argument values.
 */
export function ckrName(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined
  const m = CKR.exec(error.message) ?? (typeof error.stack === 'string' ? CKR.exec(error.stack) : null)
  return m?.[1]
}

interface Loaded {
  library: Pkcs11Library
  refs: number
  /** False when someone else in this process had initialised the library first: then we never finalise it. */
  ownsInit: boolean
  /** Per slot (hex handle), a keyed digest of the PIN that logged in, to refuse a different PIN later. */
  logins: Map<string, Uint8Array>
}

const loaded = new Map<string, Loaded>()

/** A loaded library plus the per-slot login record shared by every provider using it. */
export interface LibraryLease {
  readonly library: Pkcs11Library
  readonly binding: Pkcs11Module
  readonly logins: Map<string, Uint8Array>
  release(): void
}

/**
 * Loads and initialises the PKCS#11 library at `path` (once per process) and returns a lease.
 * `C_Initialize` gets `CKF_OS_LOCKING_OK`: the binding runs `C_Encrypt`/`C_Decrypt` on libuv worker
 * threads, so the library must lock with the operating system's primitives.
 */
export async function acquireLibrary(path: string): Promise<LibraryLease> {
  const binding = await loadBinding()
  let entry = loaded.get(path)
  if (entry === undefined) {
    const library = new binding.PKCS11()
    try {
      library.load(path)
    } catch (e) {
      throw new Pkcs11ModuleError(`cannot load the PKCS#11 library ${path}`, { cause: e })
    }
    let ownsInit = true
    try {
      library.C_Initialize({ flags: constant(binding, 'CKF_OS_LOCKING_OK') })
    } catch (e) {
      if (ckrName(e) === 'CKR_CRYPTOKI_ALREADY_INITIALIZED') ownsInit = false
      else
        throw new Pkcs11ModuleError(`C_Initialize failed for ${path} (${ckrName(e) ?? 'native error'})`, {
          cause: e,
        })
    }
    entry = { library, refs: 0, ownsInit, logins: new Map() }
    loaded.set(path, entry)
  }
  entry.refs++
  const held = entry
  let released = false
  return {
    library: held.library,
    binding,
    logins: held.logins,
    release(): void {
      if (released) return
      released = true
      held.refs--
      if (held.refs > 0) return
      loaded.delete(path)
      if (held.ownsInit) {
        try {
          held.library.C_Finalize()
        } catch {
          // Finalising a library that a token reset already tore down is not an error worth raising.
        }
      }
    },
  }
}
