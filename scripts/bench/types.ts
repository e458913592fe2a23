/**
 * The shape of a benchmark file: `packages/<pkg>/bench/*.bench.ts` default-exports an array of
 * {@link Scenario}. `pnpm bench` runs every scenario, our side and the anchor's side interleaved in
 * the same run, and prints one Markdown table with the ratio.
 */

/** One operation, timed by the harness (it repeats it and computes a rate). */
export interface OpSide {
  /** What runs, for example `@safeguards/core sha256` or `node:crypto createHash`. */
  name: string
  /** One operation. May be async. */
  op: () => unknown
}

/** A side that measures itself (concurrency, RSS, latency percentiles…). */
export interface CustomSide {
  name: string
  /** Returns the figure in the scenario's unit, plus optional extra columns (for example p99). */
  measure: () => Promise<{ value: number; extra?: Record<string, string> }>
}

export type Side = OpSide | CustomSide

export interface Scenario {
  /** Short scenario name, for example `sha256 1 MiB`. */
  name: string
  /** Unit of the figures: `ops/s`, `MB/s`, or a custom unit with `lowerIsBetter`. */
  unit: string
  /** For `MB/s` with an {@link OpSide}: bytes processed per operation. */
  bytesPerOp?: number
  /** True when a smaller figure is better (latency, memory). The ratio is then anchor/ours. */
  lowerIsBetter?: boolean
  ours: Side
  /** The anchor named in the issue, measured in the same run. */
  anchor?: Side
  /** What the issue asks for. */
  target?: {
    /** Minimum ours/anchor ratio (or anchor/ours when lowerIsBetter). */
    ratio?: number
    /** Absolute bound on our figure: a minimum, or a maximum when lowerIsBetter. */
    value?: number
    /** Human text for the target column, for example `≥ 0.85× node:crypto`. */
    text?: string
  }
  /** Runs once before timing (open files, connect). */
  setup?: () => Promise<void> | void
  /** Runs once after timing. */
  teardown?: () => Promise<void> | void
  /** Approximate time budget per side in ms (default 1500). */
  timeMs?: number
}
