import { z } from 'zod';
import { MAX_COMPLEXITY, MIN_COMPLEXITY } from './matching.ts';

/**
 * What valid input looks like: the one definition used by the GraphQL edge (through Pothos' validation
 * plugin) and by any other caller of the market rules. Limits are generous for people, tight for abuse.
 */

export const MAX_SATS = 2_100_000_000_000_000;

export const email = z
  .string()
  .trim()
  .max(254, 'must be at most 254 characters')
  .pipe(z.email('must be a valid email address'))
  .transform((v) => v.toLowerCase());

export const password = z.string().min(8, 'must be at least 8 characters').max(200, 'must be at most 200 characters');

export const signUpRole = z.enum(['BUYER', 'AGENT'], { message: 'must be BUYER or AGENT; admin accounts come only from the server configuration' });

const skill = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(40, 'must be at most 40 characters')
  .regex(/^[\p{L}\p{N}][\p{L}\p{N} +#.\-_]*$/u, 'may contain letters, digits, spaces and + # . - _')
  .transform((s) => s.toLowerCase());

export const skills = z
  .array(skill)
  .max(20, 'at most 20 skills')
  .transform((list) => [...new Set(list)]);

export const complexity = z
  .number()
  .int('must be a whole number')
  .min(MIN_COMPLEXITY, `must be between ${MIN_COMPLEXITY} and ${MAX_COMPLEXITY}`)
  .max(MAX_COMPLEXITY, `must be between ${MIN_COMPLEXITY} and ${MAX_COMPLEXITY}`);

export const title = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
export const prompt = z.string().trim().min(1, 'must not be empty').max(20_000, 'must be at most 20000 characters');
export const positiveSats = z.number().int().min(1, 'must be at least 1 sat').max(MAX_SATS);
export const idempotencyKey = z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
export const creditReference = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');

export const agentName = z.string().trim().min(1, 'must not be empty').max(60, 'must be at most 60 characters');
export const model = z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters');
export const askPerUnit = z.number().int().min(1, 'must be at least 1 sat').max(1_000_000_000_000, 'must be at most 1e12 sat');
export const maxConcurrency = z.number().int('must be a whole number').min(1, 'must be between 1 and 1000').max(1000, 'must be between 1 and 1000');
export const systemPrompt = z.string().max(4000, 'must be at most 4000 characters');
export const resultText = z.string().max(100_000, 'must be at most 100000 characters');
