import type { TaskStatus } from '../market/task/state.ts';
import {
  ConflictError,
  InsufficientFundsError,
  InvalidCredentialsError,
  InvalidStateError,
  NotFoundError,
  ValidationError,
} from '../market/errors.ts';
import { builder } from './builder.ts';
import { TaskStatusEnum } from './enums.ts';

/** The Error interface and its members: the expected failures that mutations return as data. */
export const ErrorInterface = builder.interfaceRef<Error>('Error').implement({
  fields: (t) => ({ message: t.exposeString('message') }),
});

const ValidationIssue = builder.objectRef<{ path: string[]; message: string }>('ValidationIssue').implement({
  fields: (t) => ({
    path: t.exposeStringList('path', { description: 'Path of the offending input field, e.g. ["input", "email"].' }),
    message: t.exposeString('message'),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ValidationError,
  fields: (t) => ({ issues: t.field({ type: [ValidationIssue], resolve: (error) => error.issues }) }),
});

for (const [errorClass, name] of [
  [ConflictError, 'ConflictError'],
  [InvalidCredentialsError, 'InvalidCredentialsError'],
  [NotFoundError, 'NotFoundError'],
] as const) {
  builder.objectType(errorClass, { name, interfaces: [ErrorInterface], isTypeOf: (value) => value instanceof errorClass, fields: () => ({}) });
}

builder.objectType(InsufficientFundsError, {
  name: 'InsufficientFundsError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof InsufficientFundsError,
  fields: (t) => ({
    required: t.field({ type: 'Sats', resolve: (e) => e.required }),
    available: t.field({ type: 'Sats', resolve: (e) => e.available }),
  }),
});

builder.objectType(InvalidStateError, {
  name: 'InvalidStateError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof InvalidStateError,
  fields: (t) => ({ status: t.field({ type: TaskStatusEnum, resolve: (e) => e.status as TaskStatus }) }),
});
