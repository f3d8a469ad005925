import { GraphQLError, Kind } from 'graphql';
import { MAX_SATS } from '../market/inputs.ts';
import { builder } from './builder.ts';

const badInput = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });

builder.scalarType('DateTime', {
  description: 'ISO-8601 date-time in UTC, e.g. 2026-11-23T12:00:00.000Z',
  serialize: (value) => value.toISOString(),
  parseValue: (value) => {
    const date = typeof value === 'string' ? new Date(value) : null;
    if (!date || Number.isNaN(date.getTime())) throw badInput('DateTime must be an ISO-8601 string');
    return date;
  },
});

function parseSats(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw badInput('Sats must be a number of whole satoshis');
  if (!Number.isInteger(value)) throw badInput(`Sats must be whole satoshis, not ${value}`);
  if (value < 0) throw badInput(`Sats cannot be negative (${value})`);
  if (value > MAX_SATS) throw badInput(`Sats cannot exceed ${MAX_SATS} (21 million bitcoin)`);
  return value;
}

builder.scalarType('Sats', {
  description: 'Whole satoshis, 0 <= n <= 2100000000000000, serialized as a JSON number.',
  serialize: (value) => value,
  parseValue: parseSats,
  parseLiteral: (ast) => {
    if (ast.kind === Kind.INT || ast.kind === Kind.FLOAT) return parseSats(Number(ast.value));
    throw badInput('Sats must be a number of whole satoshis');
  },
});
