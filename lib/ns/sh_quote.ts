/**
 * Quoting for the `sh` scripts pod writes (conmon's shim, network set-up and teardown scripts).
 * @module
 */

/**
 * `s` as one single-quoted `sh` word.
 *
 * @example
 * ```ts
 * import { shQuote } from "./sh_quote.ts";
 * console.assert(shQuote("it's") === `'it'\\''s'`);
 * ```
 */
export function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}
