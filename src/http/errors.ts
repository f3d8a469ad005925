import { PothosValidationError } from '@pothos/core';
import { GraphQLError } from 'graphql';
import { maskError as yogaMaskError, type YogaServerOptions } from 'graphql-yoga';
import type { Logger } from 'pino';
import { TransactionConflictError } from '../db/transient.ts';
import { AccessError, ValidationError } from '../market/errors.ts';

type MaskError = NonNullable<Exclude<YogaServerOptions<object, object>['maskedErrors'], boolean | undefined>>['maskError'];

/**
 * Expected errors keep a stable code (UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT, SERVICE_UNAVAILABLE for
 * a transaction that kept losing to others after every retry); anything else is a
 * bug: logged with its stack, and the client sees only "Unexpected error." (Yoga's masking).
 */
export function createMaskError(logger: Logger): MaskError {
  return (error, message, isDev) => {
    const original = error instanceof GraphQLError ? error.originalError : error;
    if (original instanceof AccessError) {
      return new GraphQLError(original.message, { extensions: { code: original.code } });
    }
    if (original instanceof ValidationError) {
      // Input to a query field (e.g. quote) that has no error union: a top-level error with the issues.
      return new GraphQLError(original.message, { extensions: { code: 'BAD_USER_INPUT', issues: original.issues } });
    }
    if (original instanceof TransactionConflictError) {
      logger.warn({ err: original.cause }, 'a transaction kept conflicting with others; the client was told to try again');
      return new GraphQLError(original.message, { extensions: { code: 'SERVICE_UNAVAILABLE' } });
    }
    if (original instanceof PothosValidationError) {
      // e.g. a negative `first`: the client's mistake, told as such.
      return new GraphQLError(original.message, { extensions: { code: 'BAD_USER_INPUT' } });
    }
    if (error instanceof GraphQLError && !error.originalError) return error;
    if (original instanceof GraphQLError) return original;
    logger.error({ err: original }, 'unexpected error while resolving');
    return yogaMaskError(error, message, isDev);
  };
}
