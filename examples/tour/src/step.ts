/** One step of the tour: a package, the HIPAA safeguard it serves, and a short demonstration. */
export interface TourStep {
  /** Package name, for example `@safeguards/core`. */
  package: string
  /** What the step shows, one line. */
  title: string
  /** The HIPAA citations it demonstrates. */
  hipaa: string[]
  /** Runs the step; `say` prints one line of evidence. */
  run(say: (line: string) => void): Promise<void>
}
