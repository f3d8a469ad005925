import { type RawBuilder, type SqlBool, sql } from 'kysely';

/**
 * `column` contains `text`, ignoring case, on SQLite and PostgreSQL alike (PostgreSQL's LIKE is case
 * sensitive, SQLite's is not for ASCII: lowering both sides makes them agree). `%`, `_` and `\` in the
 * text are matched literally, so a search for "50%" finds "50%" and not everything starting with 50.
 */
export function containsText(column: 'email' | 'title', text: string): RawBuilder<SqlBool> {
  const escaped = text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`);
  return sql<SqlBool>`lower(${sql.ref(column)}) LIKE ${`%${escaped}%`} ESCAPE '\\'`;
}

/** A search box's text, trimmed; empty means no search. */
export function searchText(value: string | null | undefined): string | null {
  const text = value?.trim() ?? '';
  return text === '' ? null : text;
}
