/**
 * The shape of a benchmark file: `packages/<pkg>/bench/*.bench.ts` default-exports an array of
 * {@link Scenario}. `pnpm bench` runs every scenario, our side, the peer's (`anchor`) and the
 * limit's interleaved in the same run, and prints one Markdown table with both ratios.
 *
 * Two kinds of comparison, because a slow anchor flatters us:
 * - the **peer** (`anchor`): what a user would pick instead of us (`sha256sum -c`, pino…). Its
 *   ratio answers "is this worth using?", but a peer can be slow for reasons of its own (no SHA
 *   extensions, a process per file).
 * - the **limit**: the fastest plain loop that does the same work in the same process (reads the
 *   same bytes, computes the same hashes, on as many threads as ours uses). Nothing doing that
 *   work can beat it by much, so its ratio says how much of the hardware we use. When a scenario
 *   has a limit, its target ratio is set against the limit.
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
  /** The peer: the tool a user would pick instead (the anchor named in the issue), same run. */
  anchor?: Side
  /** The limit: the fastest plain loop doing the same work in the same process, same run. */
  limit?: Side
  /**
   * The floor: only the primitives the operation cannot do without (for an envelope record, the
   * node:crypto calls its format requires), timed bare in the same alternating rounds. Its ratio
   * against the anchor is the best any implementation of that work could reach: beside a missed
   * target the table prints "missed: floor X×, ours Y×", so a miss shows how much is ours and how
   * much is the primitives'.
   */
  floor?: Side
  /** What the issue asks for. */
  target?: {
    /**
     * Minimum ours/limit ratio when the scenario has a limit, else ours/anchor (inverted when
     * lowerIsBetter).
     */
    ratio?: number
    /** Absolute bound on our figure: a minimum, or a maximum when lowerIsBetter. */
    value?: number
    /** Human text for the target column, for example `≥ 0.5× limit`. */
    text?: string
  }
  /** Runs once before timing (open files, connect). */
  setup?: () => Promise<void> | void
  /** Runs once after timing. */
  teardown?: () => Promise<void> | void
  /** Approximate time budget per side in ms (default 1500). */
  timeMs?: number
  /**
   * Alternating rounds (ours, peer, limit, ours, …); each side's figure is the median of its
   * rounds. Op sides: default 5, each round about `timeMs / rounds`. Custom sides: rounds of
   * `measure()`, default 1; the notes are those of the last round.
   */
  rounds?: number
  /** Op sides: one untimed round of each side first (default true). */
  warmup?: boolean
}
