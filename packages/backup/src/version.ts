/**
 * The package version, written into `Bag-Software-Agent` and reports.
 *
 * @example
 * ```ts
 * BACKUP_VERSION // '0.1.0'
 * ```
 */
export const BACKUP_VERSION = '0.1.0'
