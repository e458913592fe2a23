/**
 * A bounded pool of PKCS#11 sessions on one token.
 *
 * A PKCS#11 session runs one cryptographic operation at a time (`C_EncryptInit` then `C_Encrypt`
 * must not interleave with another caller's `C_DecryptInit` on the same session), so each caller
 * takes a session exclusively, in FIFO order, and gives it back. Sessions are opened lazily up to
 * `max`. A session that failed in a way that may have left an operation active or the session dead
 * (`healthy: false`) is closed instead of being returned, and the next caller opens a fresh one.
 *
 * Login belongs to the application, not the session: every new session calls `C_Login`, and
 * `CKR_USER_ALREADY_LOGGED_IN` means the token already holds the login. Because that answer comes
 * before the token checks the PIN, the pool remembers a keyed digest of the PIN that first logged
 * in on each slot (in the shared library lease) and refuses a different PIN with
 * `Pkcs11LoginError`: a second provider in the process cannot ride on the first one's login with
 * a wrong PIN.
 *
 * @module
 */
import { bytesToHex, hmac, randomBytes, type Secret, timingSafeEqual, utf8Encode } from '@safeguards/core'
import { Pkcs11ClosedError, Pkcs11LoginError, type Pkcs11LoginReason } from '../errors.js'
import { ckrName, constant, type Handle, type LibraryLease } from './binding.js'

/** Keyed so that a heap dump of the login record is not a bare, brute-forceable PIN hash. */
const PIN_DIGEST_KEY = randomBytes(32)

const LOGIN_REASONS: Record<string, Pkcs11LoginReason> = {
  CKR_PIN_INCORRECT: 'pin-incorrect',
  CKR_PIN_LOCKED: 'pin-locked',
  CKR_PIN_INVALID: 'pin-invalid',
  CKR_PIN_LEN_RANGE: 'pin-invalid',
  CKR_PIN_EXPIRED: 'pin-expired',
}

interface Waiter {
  resolve: (session: Handle) => void
  reject: (error: unknown) => void
}

/** Options of {@link SessionPool}. */
export interface SessionPoolOptions {
  lease: LibraryLease
  slot: Handle
  tokenLabel: string
  pin: Secret<string>
  max: number
}

export class SessionPool {
  readonly #lease: LibraryLease
  readonly #slot: Handle
  readonly #slotKey: string
  readonly #tokenLabel: string
  readonly #pin: Secret<string>
  readonly #max: number
  readonly #idle: Handle[] = []
  readonly #waiters: Waiter[] = []
  #open = 0
  #busy = 0
  #closed = false
  #drained: (() => void) | undefined

  constructor(options: SessionPoolOptions) {
    this.#lease = options.lease
    this.#slot = options.slot
    this.#slotKey = bytesToHex(options.slot)
    this.#tokenLabel = options.tokenLabel
    this.#pin = options.pin
    this.#max = options.max
  }

  /**
   * Runs `fn` with a session held exclusively. When `fn` throws, the session goes back to the pool
   * only if `keepOnError(error)` says the failure left it sound (no operation active, session and
   * login alive); otherwise it is closed.
   */
  async use<T>(fn: (session: Handle) => Promise<T> | T, keepOnError: (e: unknown) => boolean): Promise<T> {
    const session = await this.#acquire()
    let healthy = true
    try {
      return await fn(session)
    } catch (e) {
      healthy = keepOnError(e)
      throw e
    } finally {
      this.#release(session, healthy)
    }
  }

  /** Opens the first session and logs in, so that `open()` reports a bad PIN at once. */
  async warmUp(): Promise<void> {
    await this.use(
      () => undefined,
      () => true,
    )
  }

  async #acquire(): Promise<Handle> {
    if (this.#closed) throw new Pkcs11ClosedError()
    const idle = this.#idle.pop()
    if (idle !== undefined) {
      this.#busy++
      return idle
    }
    if (this.#open < this.#max) {
      this.#open++
      this.#busy++
      try {
        return this.#openSession()
      } catch (e) {
        this.#open--
        this.#busy--
        this.#wakeOne()
        throw e
      }
    }
    return new Promise<Handle>((resolve, reject) => {
      this.#waiters.push({ resolve, reject })
    })
  }

  #release(session: Handle, healthy: boolean): void {
    if (!healthy || this.#closed) {
      this.#closeSession(session)
      this.#open--
      this.#busy--
      this.#wakeOne()
    } else {
      const waiter = this.#waiters.shift()
      if (waiter !== undefined) {
        waiter.resolve(session) // hand over: stays busy
        return
      }
      this.#busy--
      this.#idle.push(session)
    }
    if (this.#busy === 0) this.#drained?.()
  }

  /** After a session closed: let the first waiter open a new one in its place. */
  #wakeOne(): void {
    const waiter = this.#waiters.shift()
    if (waiter === undefined) return
    if (this.#closed) {
      waiter.reject(new Pkcs11ClosedError())
      return
    }
    this.#open++
    this.#busy++
    try {
      waiter.resolve(this.#openSession())
    } catch (e) {
      this.#open--
      this.#busy--
      waiter.reject(e)
      this.#wakeOne()
    }
  }

  #openSession(): Handle {
    const { library, binding } = this.#lease
    const flags = constant(binding, 'CKF_SERIAL_SESSION') | constant(binding, 'CKF_RW_SESSION')
    const session = library.C_OpenSession(this.#slot, flags)
    try {
      this.#login(session)
    } catch (e) {
      this.#closeSession(session)
      throw e
    }
    return session
  }

  #login(session: Handle): void {
    const { library, binding, logins } = this.#lease
    const digest = hmac('sha256', PIN_DIGEST_KEY, utf8Encode(this.#pin.reveal()))
    try {
      library.C_Login(session, constant(binding, 'CKU_USER'), this.#pin.reveal())
      logins.set(this.#slotKey, digest)
    } catch (e) {
      const rv = ckrName(e)
      if (rv === 'CKR_USER_ALREADY_LOGGED_IN') {
        const known = logins.get(this.#slotKey)
        // A login made by other code in this process (no record) cannot be checked; ours can.
        if (known !== undefined && !timingSafeEqual(known, digest)) {
          throw new Pkcs11LoginError(
            'pin-incorrect',
            `token "${this.#tokenLabel}" is logged in with a different PIN`,
          )
        }
        if (known === undefined) logins.set(this.#slotKey, digest)
        return
      }
      const reason = (rv === undefined ? undefined : LOGIN_REASONS[rv]) ?? 'failed'
      throw new Pkcs11LoginError(
        reason,
        `C_Login on token "${this.#tokenLabel}" failed (${rv ?? 'native error'})`,
        {
          cause: e,
        },
      )
    }
  }

  #closeSession(session: Handle): void {
    try {
      this.#lease.library.C_CloseSession(session)
    } catch {
      // The session may already be gone (token removed, library reset): nothing left to close.
    }
  }

  /**
   * Closes every idle session. Called after a session fault: a token reset or a lost login kills
   * every session of the application at once, so the idle ones are presumed dead too.
   */
  discardIdle(): void {
    for (const session of this.#idle.splice(0)) {
      this.#closeSession(session)
      this.#open--
    }
  }

  /**
   * Closes the pool: waiting callers fail with `Pkcs11ClosedError`, sessions in use are closed as
   * they come back, and the promise settles when none is in use. The last session to close ends
   * the token login for this application, as PKCS#11 specifies.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const waiter of this.#waiters.splice(0)) waiter.reject(new Pkcs11ClosedError())
    if (this.#busy > 0) await new Promise<void>((resolve) => (this.#drained = resolve))
    for (const session of this.#idle.splice(0)) {
      this.#closeSession(session)
      this.#open--
    }
  }
}
