/**
 * C0 and C1 control characters and the Unicode line separators: in an event type or a user id
 * they could split SSE fields or log lines, or make two ids look alike.
 */

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/** A lone surrogate would reach the client as U+FFFD, so two names could become one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Printable ASCII: clean by construction, and what nearly every name is, so it is checked first. */
const PRINTABLE_ASCII = /^[\u0020-\u007e]*$/;

/** A non-empty string of at most `maxLength` UTF-16 units, well-formed and without control characters. */
export function isCleanText(value: unknown, maxLength: number): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) return false;
  return PRINTABLE_ASCII.test(value) || (!CONTROL_CHARACTERS.test(value) && !LONE_SURROGATE.test(value));
}
