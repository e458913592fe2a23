/**
 * Type-test support for the packages' error contracts (`*.test-d.ts`): one table per package
 * instead of one `expectTypeOf<XError['code']>()` line per class.
 *
 * ```ts
 * expectTypeOf<ErrorCodes<typeof import('../src/index.js')>>().toEqualTypeOf<{
 *   BackupError: BackupErrorCode
 *   BackupKeyError: 'ERR_BACKUP_KEY'
 * }>()
 * ```
 */

/** What counts as an error class: constructs an `Error` with a string `code` (abstract classes too). */
type ErrorClass = abstract new (...args: never[]) => Error & { readonly code: string }

/** Shown in a failing table where a class's static `code` is not the `code` of its instances. */
interface StaticCodeMismatch<Static, Instance> {
  readonly static: Static
  readonly instance: Instance
}

/** True when `T` is a union (a base class's codes), false for one literal. */
type IsUnion<T, U = T> = T extends unknown ? ([U] extends [T] ? false : true) : never

/**
 * The instances' `code` of class `C`. A `CodedError` reads its code from the class's static `code`
 * at run time, so a class whose instances have one literal code must declare that same static:
 * where it declares another, or none (it inherits the base's `string`, `ERR_UNSPECIFIED` at run
 * time), the entry becomes a {@link StaticCodeMismatch} and the table no longer matches. A base
 * class (a union of codes) keeps the `string` static it inherits.
 */
type CodeOf<C extends ErrorClass> = InstanceType<C>['code'] extends infer I
  ? C extends { readonly code: infer S extends string }
    ? string extends S
      ? true extends IsUnion<I>
        ? I
        : string extends I
          ? I
          : StaticCodeMismatch<S, I>
      : [S, I] extends [I, S]
        ? I
        : StaticCodeMismatch<S, I>
    : I
  : never

/**
 * The `code` of every error class that `Module` (a package's `typeof import('../src/index.js')`)
 * exports, by export name. Compared with a written-out table by `toEqualTypeOf`, it fails when a
 * code changes, when an error class is added or removed, or when a class's static `code` disagrees
 * with the `code` its instances are typed with.
 */
export type ErrorCodes<Module> = {
  [K in keyof Module as Module[K] extends ErrorClass ? K : never]: Module[K] extends ErrorClass
    ? CodeOf<Module[K]>
    : never
}
