/** Field name -> message, for showing each typed error from a mutation next to its input. */
export type FieldErrors = Partial<Record<string, string>>;

interface Issue {
  path: readonly string[];
  message: string;
}

/**
 * ValidationError.issues -> FieldErrors. A path like ["input", "prompt"] belongs to the field `prompt`;
 * issues whose field the form does not show are gathered under `form`, so nothing is silently dropped.
 */
export function issuesToFieldErrors(issues: readonly Issue[], fields: readonly string[]): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of issues) {
    const path = issue.path[0] === 'input' ? issue.path.slice(1) : issue.path;
    const field = path.find((segment) => fields.includes(segment)) ?? 'form';
    errors[field] = errors[field] ? `${errors[field]} ${issue.message}` : issue.message;
  }
  return errors;
}

/** A failed request (network, FORBIDDEN, ...) as one readable sentence. */
export function requestErrorMessage(error: { message: string; networkError?: Error | undefined; graphQLErrors: ReadonlyArray<{ message: string }> }): string {
  if (error.networkError) return 'Cannot reach the server. Check your connection and try again.';
  return error.graphQLErrors[0]?.message ?? error.message;
}

/** A union-typed mutation answer: its success member, ValidationError (with issues), or another Error. */
interface UnionPayload {
  __typename: string;
  message?: string;
  issues?: readonly Issue[];
}

/**
 * What a union-typed mutation answered, as FieldErrors for its form: empty when the answer is the
 * `success` member; ValidationError issues next to their fields; any other error's message under `form`.
 */
export function payloadErrors(
  result: { error?: Parameters<typeof requestErrorMessage>[0] | undefined; data?: unknown },
  payload: UnionPayload | null | undefined,
  success: string,
  fields: readonly string[],
): FieldErrors {
  if (result.error) return { form: requestErrorMessage(result.error) };
  if (!payload) return { form: 'No answer from the server.' };
  if (payload.__typename === success) return {};
  if (payload.issues) return issuesToFieldErrors(payload.issues, fields);
  return { form: payload.message ?? 'The server refused this.' };
}
