/**
 * `@safeguards/controls`: the HIPAA Security Rule catalog, the API-to-control coverage generated
 * from TSDoc tags, the matrix, and the OSCAL component definition.
 *
 * @packageDocumentation
 */
export type {
  Baseline,
  BaselineAdjustment,
  Threshold,
  ThresholdId,
  ThresholdKind,
  ThresholdValue,
} from './baseline.js'
export { compileBaseline, defaultBaseline, parseBaseline, THRESHOLD_IDS, withThreshold } from './baseline.js'
export type { Designation, HipaaCitation, Safeguard, UncoveredReason } from './catalog.js'
export { findCitation, hipaaCatalog, hipaaControlId } from './catalog.js'
export type { ApiMapping, CoverageDocument, CoverageRow, CoverageStatus, NistPair } from './coverage.js'
export { buildCoverage } from './coverage.js'
export type { ControlsErrorCode, EvidenceErrorCode } from './errors.js'
export { BaselineError, CatalogDataError, ControlTagError, CoverageError, EvidenceError } from './errors.js'
export type {
  ActivityReviewInput,
  AuditLogVerifyInput,
  BackupVerifyInput,
  EvidenceCheck,
  EvidenceInputs,
  EvidenceReport,
  KeyringInput,
  KeyVersionInput,
  MfaInput,
  OpenFindings,
  PasswordPolicyInput,
  SessionPolicyInput,
  VerifiedCheckpointInput,
} from './evidence.js'
export { buildEvidenceReport } from './evidence.js'
export { renderEvidenceHtml } from './evidence-html.js'
export type {
  EvidenceArea,
  JudgedSections,
  Judgement,
  SafeguardFamily,
  SpecificationVerdict,
  Verdict,
  VerdictCounts,
  VerdictStatus,
} from './evidence-judge.js'
export { judgeEvidence } from './evidence-judge.js'
export { renderEvidenceMarkdown } from './evidence-render.js'
export type { EvidenceVerifyResult } from './evidence-sign.js'
export { EVIDENCE_JWS_TYPE, signEvidence, verifyEvidence } from './evidence-sign.js'
export type { TransitChecker, TransitCheckInput, TransitCheckResult } from './evidence-transit.js'
export { runTransitChecks } from './evidence-transit.js'
export { coverage } from './generated/coverage.js'
export {
  coverageLabel,
  coverageStatuses,
  designationLabel,
  displayTitle,
  provenanceLabel,
} from './labels.js'
export type { MatrixFormat } from './matrix.js'
export { renderMatrix } from './matrix.js'
export { nistControls, nistOscalId } from './nist.js'
export type { OscalJson, OscalOptions } from './oscal.js'
export { OSCAL_PAIR_CLASS, OSCAL_PROPS_NS, toOscalComponentDefinition } from './oscal.js'
export type { MappingSource, NistPairsSource } from './provenance.js'
export { mappingSource, nistOwnControls, nistPairsSource } from './provenance.js'
export type { ControlTags, CoverageLevel, NistTag } from './tags.js'
export { parseControlTags } from './tags.js'
