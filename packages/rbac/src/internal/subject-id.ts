/**
 * Subject ids in emergency access (the requester, a revoker, a reviewer): one grammar, refused
 * otherwise, and two comparisons.
 *
 * Grammar: 1 to 255 printable ASCII characters (U+0021 to U+007E). That covers the stable user ids
 * identity providers issue: UUIDs (Entra ID `oid`, Keycloak), OpenID Connect `sub` values (at most
 * 255 ASCII characters, case-sensitive: OpenID Connect Core 1.0 §2 and §5.7), `auth0|5f7c…`,
 * Okta's `00u…`, FHIR references such as `Practitioner/123` and ASCII email addresses. Refused
 * rather than normalised: whitespace anywhere, control, format and zero-width characters, and
 * everything outside ASCII (fullwidth `ｕ1`, lookalike scripts), so two spellings of one person
 * cannot both be accepted. An app whose ids are not ASCII passes a stable ASCII key instead (the
 * IdP's `sub` or object id, which do not change when a name or address does).
 *
 * Comparisons, chosen by what a false match would do:
 * - where a match grants (the grant's holder against the request's subject), exact: OIDC `sub`
 *   values are case-sensitive, so `U1` and `u1` may be two people;
 * - where a match refuses (the holder against the reviewer), ASCII case-insensitive: directories
 *   such as Active Directory and mail systems may hand the same person over as `U1` or `u1`, and
 *   refusing a reviewer whose id differs from the holder's only in case costs nothing.
 *
 * HIPAA: 164.312(a)(2)(i) unique user identification.
 */

/** 1 to 255 printable ASCII characters: no space, no control or format character, no non-ASCII. */
const SUBJECT_ID_RE = /^[\x21-\x7e]{1,255}$/

/** True when `s` is a subject id by the grammar above. */
export function isSubjectId(s: unknown): s is string {
  return typeof s === 'string' && SUBJECT_ID_RE.test(s)
}

/** True when two subject ids may name the same person (ASCII case-insensitive); for refusals. */
export function maySameSubject(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase()
}
