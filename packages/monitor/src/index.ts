/**
 * `@safeguards/monitor`: activity review over the audit log. Deterministic, explainable detectors
 * (sign-in bursts, password spray, bulk access, denials, off-hours, emergency-access overuse,
 * dormant accounts, care relationship, restricted patients, self or coworker) whose every finding
 * cites the seqs of its records.
 *
 * @packageDocumentation
 */

export type { DetectorKind, DetectorName, DetectorSpec, Severity } from './detectors.js'
export { DETECTOR_NAMES, DETECTORS, SEVERITIES } from './detectors.js'
export type { MonitorErrorCode } from './errors.js'
export {
  MonitorError,
  MonitorFindingStoreError,
  MonitorFindingUnknownError,
  MonitorOrderError,
  MonitorRulesError,
  MonitorSelfReviewError,
} from './errors.js'
export type { Finding } from './finding.js'
export { compareFindings, findingId, MAX_CITED } from './finding.js'
export type { FileFindingStore, FileFindingStoreOptions, TornTail } from './finding-store-file.js'
export { openFindingStore } from './finding-store-file.js'
export type { PostgresFindingStoreOptions, SqlClient } from './finding-store-postgres.js'
export { openPostgresFindingStore } from './finding-store-postgres.js'
export type { FollowOptions } from './follow.js'
export { followLog } from './follow.js'
export type {
  AcknowledgeOptions,
  Disposition,
  FindingState,
  FindingStatus,
  FindingStore,
  SuppressOptions,
} from './lifecycle.js'
export { DISPOSITIONS, isOpen } from './lifecycle.js'
export type { Monitor, MonitorOptions, MonitorResult, Resolvers, UnknownEvent } from './monitor.js'
export { createMonitor } from './monitor.js'
export type { EventKind, NormalEvent, NormalizeResult, RecordProblem } from './normalize.js'
export { MAX_FUTURE_SKEW_MS, normalizeRecord, normalizeStored } from './normalize.js'
export type { ReviewOptions, ReviewSource } from './review.js'
export { formatResult, reviewLog } from './review.js'
export type { DetectorRule, RuleSet } from './rules.js'
export { compileRules, defaultRules, parseRules } from './rules.js'
export type { Shift } from './schedule.js'
export { shiftsCover } from './schedule.js'
export type { Vocabulary } from './vocabulary.js'
export { DEFAULT_VOCABULARY } from './vocabulary.js'
