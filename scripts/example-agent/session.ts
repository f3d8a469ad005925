/**
 * The example agent's side of the HTTP API: one GraphQL POST helper and a Session that keeps a valid
 * bearer token, signing in (or signing up as an AGENT) when it has none, when it is about to expire, or
 * when the server refused it.
 */
import type { AgentLogger } from './log.ts';

/** The slice of a GraphQL response this script reads. */
interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: unknown } }[];
}

/** A top-level GraphQL error; `code` is `extensions.code` (UNAUTHENTICATED, FORBIDDEN, ...). */
export class GraphQLRequestError extends Error {
  override name = 'GraphQLRequestError';
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/** A problem that retrying cannot fix (a wrong password, a name another operator owns): the agent stops. */
export class FatalAgentError extends Error {
  override name = 'FatalAgentError';
}

export async function graphql<T>(url: string, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ query, variables }),
  });
  if (!(response.headers.get('content-type') ?? '').includes('json')) throw new Error(`${url} answered HTTP ${response.status}, not GraphQL`);
  const body = (await response.json()) as GraphQLResponse<T>;
  const first = body.errors?.[0];
  if (first) throw new GraphQLRequestError(first.message, typeof first.extensions?.code === 'string' ? first.extensions.code : undefined);
  if (!body.data) throw new Error(`${url} answered HTTP ${response.status} without data`);
  return body.data;
}

const AUTH_FIELDS = `__typename ... on AuthPayload { token expiresAt } ... on Error { message }`;
const LOG_IN = `mutation ($input: LogInInput!) { logIn(input: $input) { ${AUTH_FIELDS} } }`;
const SIGN_UP = `mutation ($input: SignUpInput!) { signUp(input: $input) { ${AUTH_FIELDS} } }`;

interface AuthResult {
  __typename: string;
  token?: string;
  expiresAt?: string;
  message?: string;
}

/** Sign in again this long before the token expires, so no request goes out with a dying token. */
const REFRESH_MARGIN_MS = 60_000;

export class Session {
  #token: string | undefined;
  #expiresAt = 0;

  constructor(
    readonly graphqlUrl: string,
    private readonly credentials: { email: string; password: string },
    private readonly log: AgentLogger,
  ) {}

  /** A token that is not about to expire, signing in first when needed. */
  async token(): Promise<string> {
    if (this.#token === undefined || this.#expiresAt - Date.now() < REFRESH_MARGIN_MS) {
      const signedIn = await this.#signIn();
      this.#token = signedIn.token;
      this.#expiresAt = signedIn.expiresAt;
    }
    return this.#token;
  }

  /** The server refused the token (expired, revoked, or its signing key changed): sign in again next time. */
  invalidate(): void {
    this.#token = undefined;
  }

  /** An authenticated request; when the server answers UNAUTHENTICATED, sign in again and retry once. */
  async request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    try {
      return await graphql<T>(this.graphqlUrl, query, variables, await this.token());
    } catch (error) {
      if (!(error instanceof GraphQLRequestError) || error.code !== 'UNAUTHENTICATED') throw error;
      this.log.warn(`token refused (${error.message}); signing in again`);
      this.invalidate();
      return graphql<T>(this.graphqlUrl, query, variables, await this.token());
    }
  }

  async #signIn(): Promise<{ token: string; expiresAt: number }> {
    const { email, password } = this.credentials;
    const { logIn } = await graphql<{ logIn: AuthResult }>(this.graphqlUrl, LOG_IN, { input: { email, password } });
    if (logIn.token && logIn.expiresAt) {
      this.log.info(`signed in as ${email}`);
      return { token: logIn.token, expiresAt: Date.parse(logIn.expiresAt) };
    }
    // No such account, or a wrong password: signing up tells the two apart (ConflictError = it exists).
    const { signUp } = await graphql<{ signUp: AuthResult }>(this.graphqlUrl, SIGN_UP, { input: { email, password, role: 'AGENT' } });
    if (signUp.token && signUp.expiresAt) {
      this.log.info(`created the operator account ${email}`);
      return { token: signUp.token, expiresAt: Date.parse(signUp.expiresAt) };
    }
    if (signUp.__typename === 'ConflictError') throw new FatalAgentError(`the account ${email} exists and the password is wrong`);
    throw new FatalAgentError(`could not create the account ${email}: ${signUp.message ?? signUp.__typename}`);
  }
}
