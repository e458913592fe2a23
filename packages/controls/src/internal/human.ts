/** Durations for humans: `15 min`, `24 h`, `400 d`; `unknown` for null. */
export function human(ms: number | null): string {
  if (ms === null) return 'unknown'
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1000, 's'],
  ]
  for (const [size, unit] of units) if (ms >= size) return `${Math.floor(ms / size)} ${unit}`
  return `${ms} ms`
}
