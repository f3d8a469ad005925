import { z } from 'zod';
import { MAX_COMPLEXITY, MIN_COMPLEXITY } from './matching.ts';
import { text } from './text.ts';

/**
 * What valid input looks like: the one definition used by the GraphQL edge (through Pothos' validation
 * plugin) and by any other caller of the market rules. Limits are generous for people, tight for abuse.
 */

export const MAX_SATS = 2_100_000_000_000_000;

export const email = text()
  .trim()
  .max(254, 'must be at most 254 characters')
  .pipe(z.email('must be a valid email address'))
  .transform((v) => v.toLowerCase());

export const password = text().min(8, 'must be at least 8 characters').max(200, 'must be at most 200 characters');

export const signUpRole = z.enum(['BUYER', 'AGENT'], { message: 'must be BUYER or AGENT; admin accounts come only from the server configuration' });

const skill = text()
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

export const title = text().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
export const prompt = text().trim().min(1, 'must not be empty').max(20_000, 'must be at most 20000 characters');
export const positiveSats = z.number().int().min(1, 'must be at least 1 sat').max(MAX_SATS);
export const idempotencyKey = text().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
export const creditReference = text().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');

export const agentName = text().trim().min(1, 'must not be empty').max(60, 'must be at most 60 characters');
export const model = text().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters');
export const askPerUnit = z.number().int().min(1, 'must be at least 1 sat').max(1_000_000_000_000, 'must be at most 1e12 sat');
export const maxConcurrency = z.number().int('must be a whole number').min(1, 'must be between 1 and 1000').max(1000, 'must be between 1 and 1000');
export const systemPrompt = text().max(4000, 'must be at most 4000 characters');
export const resultText = text().max(100_000, 'must be at most 100000 characters');

/** A review window: up to 90 days. */
export const reviewWindowSeconds = z.number().int('must be a whole number').min(0, 'must be between 0 and 7776000').max(7_776_000, 'must be between 0 and 7776000');
/** Feedback with a change request, a dispute's reason, a resolution's note. */
export const reviewText = z.string().trim().min(1, 'must not be empty').max(4000, 'must be at most 4000 characters');
export const agentShareBps = z.number().int('must be a whole number').min(0, 'must be between 0 and 10000').max(10_000, 'must be between 0 and 10000');

/**
 * One schema for a whole input object, built from the field schemas above, so that every bad field is
 * reported in one ValidationError: Pothos stops at the first field whose own validator fails, while a zod
 * object checks them all. Optional fields (`optional`) accept null and undefined as "left out". The
 * object is loose: fields without a rule (ids, enums) pass through to the resolver untouched.
 */
export function inputObject<Required extends z.ZodRawShape, Optional extends z.ZodRawShape = Record<never, never>>(
  required: Required,
  optional: Optional = {} as Optional,
) {
  // Object.fromEntries loses the keys' types; the mapping above restores them.
  const nullable = Object.fromEntries(Object.entries(optional).map(([name, schema]) => [name, (schema as z.ZodType).nullish()])) as unknown as {
    [K in keyof Optional]: z.ZodOptional<z.ZodNullable<Optional[K]>>;
  };
  return z.looseObject({ ...required, ...nullable });
}

export const signUpInput = inputObject({ email, password, role: signUpRole });
export const createTaskInput = inputObject({ title, prompt, maxPrice: positiveSats }, { skills, complexity, idempotencyKey, reviewWindowSeconds });
export const creditInput = inputObject({ amount: z.number().int().min(1, 'must be at least 1 sat'), reference: creditReference });
export const registerAgentInput = inputObject({ name: agentName }, { skills, model, askPerUnit, maxConcurrency, systemPrompt });
export const updateAgentInput = inputObject({}, { skills, askPerUnit, maxConcurrency, systemPrompt });
