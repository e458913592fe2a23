/**
 * Transit checks in the evidence report (164.312(e)): the report takes each configured endpoint's
 * result from a checker the caller injects (for example `checkTls` of `@safeguards/transport`),
 * so this package depends on no network code.
 *
 * @module
 */

/** A TLS check's outcome, as far as the evidence needs it (a structural subset of a checker's result). */
export interface TransitCheckResult {
  /** `pass`, `warn` (for example a certificate expiring within 30 days) or `fail`. */
  verdict: 'pass' | 'warn' | 'fail'
  /** The protocol versions the server accepted, for example `['TLSv1.2', 'TLSv1.3']`, when tried. */
  acceptedProtocols?: readonly string[]
  /** Short reasons (no secrets), for example `certificate expires in 12 days`. */
  reasons?: readonly string[]
}

/** Checks one endpoint; rejects when it cannot be reached. */
export type TransitChecker = (
  host: string,
  port: number,
  options: { servername?: string },
) => Promise<TransitCheckResult>

/** One endpoint's transit check, as recorded in the report. */
export interface TransitCheckInput {
  /** `host:port`. */
  endpoint: string
  verdict: 'pass' | 'warn' | 'fail'
  acceptedProtocols?: readonly string[]
  reasons: readonly string[]
}

function splitEndpoint(endpoint: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(endpoint)
  const port = m === null ? Number.NaN : Number(m[2])
  if (m === null || !(port >= 1 && port <= 65_535))
    throw new RangeError(`"endpoints" expected HOST:PORT, got ${JSON.stringify(endpoint.slice(0, 80))}`)
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port }
}

/**
 * Runs the injected checker on each `HOST:PORT`, one after the other, and returns the results for
 * `EvidenceInputs.transit`. An endpoint the checker cannot reach is a `fail` with the reason
 * `unreachable`.
 *
 * HIPAA: 164.308(a)(8) evaluation of 164.312(e)(1) transmission security, (e)(2)(i) integrity
 * controls and (e)(2)(ii) encryption (the checker does the checking; this gathers its verdicts).
 *
 * @hipaa 164.308(a)(8) supports
 * @evidence each configured endpoint's TLS check (pass, warn, fail) in the evidence report
 * @appResponsibility List every endpoint that carries ePHI, including internal service-to-service ones.
 * @verifiedBy packages/controls/test/evidence-judge.test.ts
 * @throws {RangeError} when an endpoint is not `HOST:PORT`.
 * @example
 * ```ts
 * const transit = await runTransitChecks(['api.clinic.example:443'], checkTls)
 * buildEvidenceReport({ transit })
 * ```
 */
export async function runTransitChecks(
  endpoints: readonly string[],
  check: TransitChecker,
): Promise<TransitCheckInput[]> {
  const targets = endpoints.map((e) => ({ endpoint: e, ...splitEndpoint(e) }))
  const out: TransitCheckInput[] = []
  for (const { endpoint, host, port } of targets) {
    try {
      const r = await check(host, port, { servername: host })
      out.push({
        endpoint,
        verdict: r.verdict,
        ...(r.acceptedProtocols === undefined ? {} : { acceptedProtocols: [...r.acceptedProtocols] }),
        reasons: [...(r.reasons ?? [])],
      })
    } catch {
      out.push({ endpoint, verdict: 'fail', reasons: ['unreachable'] })
    }
  }
  return out
}
