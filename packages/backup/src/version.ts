/** The package version, written into `Bag-Software-Agent` and reports. */
export const BACKUP_VERSION = '0.1.0'
