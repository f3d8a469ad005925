/**
 * The schema check (`npm run schema:check`) as tests: the checked-in schema.graphql is what the code
 * prints, and the schema keeps every promise of the public contract in ../shared/api-contract.graphql.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildSchema, printSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { contractBreaks } from '../../scripts/contract.ts';
import { schema } from '../schema/index.ts';

const schemaFile = fileURLToPath(new URL('../../schema.graphql', import.meta.url));
const contractFile = fileURLToPath(new URL('../../../shared/api-contract.graphql', import.meta.url));
const hasContract = existsSync(contractFile);
const printed = `${printSchema(schema)}\n`;

/** Replace exactly one occurrence of `from` in `sdl`, so a typo in a test cannot pass silently. */
function replaceOnce(sdl: string, from: string, to: string): string {
  const at = sdl.indexOf(from);
  expect(at, `"${from}" occurs in the SDL`).toBeGreaterThanOrEqual(0);
  expect(sdl.indexOf(from, at + 1), `"${from}" occurs once`).toBe(-1);
  return sdl.slice(0, at) + to + sdl.slice(at + from.length);
}

describe('schema.graphql', () => {
  it('is the schema printed from the code (run `npm run schema:print` when this fails)', () => {
    expect(readFileSync(schemaFile, 'utf8')).toBe(printed);
  });
});

describe('the public contract', () => {
  if (!hasContract) console.warn(`${contractFile} not found: the contract compatibility test is skipped.`);

  it.skipIf(!hasContract)('is kept by the schema: no type, field, argument, enum value or union member broken', () => {
    expect(contractBreaks(readFileSync(contractFile, 'utf8'), schema)).toEqual([]);
  });
});

// These run whether or not the contract file is present: the checked-in schema serves as a contract.
describe('contractBreaks', () => {
  it('finds nothing between a schema and itself', () => {
    expect(contractBreaks(printed, schema)).toEqual([]);
  });

  it('accepts additions: a field the contract does not know is fine', () => {
    const smaller = replaceOnce(printed, '  attempts: Int!\n', '');
    expect(contractBreaks(smaller, schema)).toEqual([]);
  });

  it('detects a removed field', () => {
    const withoutAttempts = buildSchema(replaceOnce(printed, '  attempts: Int!\n', ''));
    const breaks = contractBreaks(printed, withoutAttempts);
    expect(breaks).toHaveLength(1);
    expect(breaks[0]).toMatch(/FIELD_REMOVED.*Task\.attempts/);
  });

  it('detects a field that the contract promises but the schema lacks', () => {
    const contract = replaceOnce(printed, '  attempts: Int!\n', '  attempts: Int!\n  rating: Float!\n');
    expect(contractBreaks(contract, schema).join('\n')).toMatch(/Task\.rating/);
  });

  it('detects an output field that became nullable', () => {
    const contract = replaceOnce(printed, '  """The agreed price, set when an agent is assigned."""\n  price: Sats\n', '  """The agreed price, set when an agent is assigned."""\n  price: Sats!\n');
    const breaks = contractBreaks(contract, schema);
    expect(breaks).toHaveLength(1);
    expect(breaks[0]).toMatch(/Task\.price/);
  });

  it('detects an input that became required', () => {
    const required = buildSchema(replaceOnce(printed, '  """1 to 10; estimated from the prompt when left out."""\n  complexity: Int\n', '  """1 to 10; estimated from the prompt when left out."""\n  complexity: Int!\n'));
    expect(contractBreaks(printed, required).join('\n')).toMatch(/CreateTaskInput\.complexity/);
  });

  it('detects a removed enum value and a removed union member', () => {
    let changed = replaceOnce(printed, '  """Withdrawn by the buyer before it started: the escrow was refunded."""\n  CANCELLED\n', '');
    changed = replaceOnce(changed, 'union CancelTaskResult = InvalidStateError | NotFoundError | Task', 'union CancelTaskResult = NotFoundError | Task');
    const breaks = contractBreaks(printed, buildSchema(changed)).join('\n');
    expect(breaks).toMatch(/VALUE_REMOVED_FROM_ENUM.*CANCELLED/);
    expect(breaks).toMatch(/TYPE_REMOVED_FROM_UNION.*InvalidStateError/);
  });
});
