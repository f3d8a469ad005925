import { z } from 'zod';

/**
 * Text the databases store alike. PostgreSQL refuses a NUL character (a 500 if it got that far) where
 * SQLite stores it, and a lone UTF-16 surrogate is not Unicode at all: each would be turned into U+FFFD
 * on its way in. Both are refused at the edge, with the same error on either database.
 */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isStorableText(value: string): boolean {
  return !UNSTORABLE.test(value);
}

export const STORABLE_TEXT_MESSAGE = 'must not contain NUL characters or unpaired UTF-16 surrogates';

/** `z.string()` refusing what `isStorableText` refuses; chain .trim(), .max(), ... on it as usual. */
export const text = () => z.string().refine(isStorableText, STORABLE_TEXT_MESSAGE);
