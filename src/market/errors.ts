/**
 * Expected failures of the marketplace rules. Each becomes a member of a GraphQL result union at the edge
 * (they are data, not exceptions to the client); anything else that is thrown is a bug and gets masked.
 */

export interface Issue {
  path: string[];
  message: string;
}

export class ValidationError extends Error {
  override name = 'ValidationError';
  constructor(
    readonly issues: Issue[],
    message = issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
  ) {
    super(message || 'Invalid input');
  }
  static of(path: string[], message: string): ValidationError {
    return new ValidationError([{ path, message }]);
  }
}

export class ConflictError extends Error {
  override name = 'ConflictError';
}

export class InvalidCredentialsError extends Error {
  override name = 'InvalidCredentialsError';
  constructor() {
    super('Email or password is incorrect');
  }
}

export class InsufficientFundsError extends Error {
  override name = 'InsufficientFundsError';
  constructor(
    readonly required: number,
    readonly available: number,
  ) {
    super(`Insufficient funds: ${required} sat required, ${available} sat available`);
  }
}

export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

export class InvalidStateError extends Error {
  override name = 'InvalidStateError';
  constructor(
    message: string,
    readonly status: string,
  ) {
    super(message);
  }
}

/** Not signed in (`UNAUTHENTICATED`) or not allowed (`FORBIDDEN`): top-level GraphQL errors, per the contract. */
export class AccessError extends Error {
  override name = 'AccessError';
  constructor(
    readonly code: 'UNAUTHENTICATED' | 'FORBIDDEN',
    message: string = code === 'UNAUTHENTICATED' ? 'Sign in to do this' : 'You may not do this',
  ) {
    super(message);
  }
}
