/**
 * The public API's types, checked by Vitest typecheck (and by `tsc -p tsconfig.test.json`): a
 * breaking change to an exported signature fails CI here before a user's build does.
 */
import type { Clock, ErrorCategory } from '@safeguards/core'
import type { JWK } from 'jose'
import { describe, expectTypeOf, test } from 'vitest'
import type { ErrorCodes } from '../../../scripts/test-support/error-codes.js'
import * as controls from '../src/index.js'

describe('@safeguards/controls public types', () => {
  test('the catalog', () => {
    expectTypeOf(controls.hipaaCatalog).toEqualTypeOf<readonly controls.HipaaCitation[]>()
    expectTypeOf(controls.findCitation).parameters.toEqualTypeOf<[string]>()
    expectTypeOf(controls.findCitation).returns.toEqualTypeOf<controls.HipaaCitation | undefined>()
    expectTypeOf(controls.hipaaControlId).returns.toBeString()
    expectTypeOf<controls.HipaaCitation['designation']>().toEqualTypeOf<controls.Designation>()
    expectTypeOf<controls.HipaaCitation['untitled']>().toEqualTypeOf<true | undefined>()
  })

  test('coverage, matrix, OSCAL, provenance, tags', () => {
    expectTypeOf(controls.coverage).toEqualTypeOf<controls.CoverageDocument>()
    expectTypeOf(controls.buildCoverage).parameters.toEqualTypeOf<[readonly controls.ApiMapping[], string]>()
    expectTypeOf(controls.buildCoverage).returns.toEqualTypeOf<controls.CoverageDocument>()
    expectTypeOf(controls.renderMatrix).parameters.toEqualTypeOf<
      [controls.CoverageDocument, controls.MatrixFormat?]
    >()
    expectTypeOf(controls.renderMatrix).returns.toBeString()
    expectTypeOf(controls.toOscalComponentDefinition).parameters.toEqualTypeOf<
      [controls.CoverageDocument, controls.OscalOptions]
    >()
    expectTypeOf(controls.toOscalComponentDefinition).returns.toEqualTypeOf<controls.OscalJson>()
    expectTypeOf(controls.mappingSource).returns.toEqualTypeOf<controls.MappingSource>()
    expectTypeOf(controls.nistOwnControls).returns.toEqualTypeOf<readonly string[]>()
    expectTypeOf(controls.parseControlTags).returns.toEqualTypeOf<controls.ControlTags>()
  })

  test('evidence: gather with an injected clock, sign, verify, render', () => {
    expectTypeOf(controls.buildEvidenceReport).parameters.toEqualTypeOf<[controls.EvidenceInputs]>()
    expectTypeOf(controls.buildEvidenceReport).returns.toEqualTypeOf<controls.EvidenceReport>()
    expectTypeOf<controls.EvidenceInputs['clock']>().toEqualTypeOf<Clock | undefined>()
    expectTypeOf<controls.EvidenceInputs>().not.toHaveProperty('now')
    expectTypeOf(controls.signEvidence).parameters.toEqualTypeOf<[controls.EvidenceReport, JWK, string?]>()
    expectTypeOf(controls.signEvidence).returns.resolves.toBeString()
    expectTypeOf(controls.verifyEvidence).parameters.toEqualTypeOf<[string, JWK]>()
    expectTypeOf(controls.verifyEvidence).returns.resolves.toEqualTypeOf<controls.EvidenceVerifyResult>()
    expectTypeOf(controls.renderEvidenceMarkdown).parameters.toEqualTypeOf<[controls.EvidenceReport]>()
    expectTypeOf(controls.renderEvidenceMarkdown).returns.toBeString()
  })

  test('evidence that judges: baseline, verdicts, HTML, injected transit checker', () => {
    expectTypeOf(controls.parseBaseline).parameters.toEqualTypeOf<[string]>()
    expectTypeOf(controls.parseBaseline).returns.toEqualTypeOf<controls.Baseline>()
    expectTypeOf(controls.compileBaseline).parameters.toEqualTypeOf<[unknown]>()
    expectTypeOf<controls.EvidenceInputs['baseline']>().toEqualTypeOf<controls.Baseline | undefined>()
    expectTypeOf<controls.EvidenceReport['schemaVersion']>().toEqualTypeOf<2>()
    expectTypeOf<controls.Verdict['status']>().toEqualTypeOf<'met' | 'partly met' | 'not met'>()
    expectTypeOf<controls.SpecificationVerdict['status']>().toEqualTypeOf<controls.VerdictStatus>()
    expectTypeOf<controls.Verdict['basis']>().toEqualTypeOf<'measured' | 'declared'>()
    expectTypeOf(controls.renderEvidenceHtml).returns.toBeString()
    expectTypeOf(controls.runTransitChecks).parameters.toEqualTypeOf<
      [readonly string[], controls.TransitChecker]
    >()
    expectTypeOf<controls.BaselineError['pointer']>().toBeString()
    expectTypeOf<'ERR_EVIDENCE_BASELINE'>().toExtend<controls.ControlsErrorCode>()
  })

  test('errors: stable code literals', () => {
    expectTypeOf<ErrorCodes<typeof controls>>().toEqualTypeOf<{
      EvidenceError: controls.EvidenceErrorCode
      ControlTagError: 'ERR_CONTROL_TAG'
      CoverageError: 'ERR_CONTROLS_COVERAGE'
      CatalogDataError: 'ERR_CONTROLS_DATA'
      BaselineError: 'ERR_EVIDENCE_BASELINE'
    }>()
    expectTypeOf<controls.EvidenceErrorCode>().toEqualTypeOf<'ERR_EVIDENCE_INPUT' | 'ERR_EVIDENCE_KEY'>()
    expectTypeOf<controls.ControlTagError['line']>().toBeString()
    expectTypeOf<controls.CoverageError['category']>().toEqualTypeOf<ErrorCategory>()
    expectTypeOf(controls.ControlTagError).constructorParameters.toEqualTypeOf<[string, string]>()
  })
})
