import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { GraphQLError } from 'graphql';
import type { Plugin, YogaServerOptions } from 'graphql-yoga';

/** The bodies a GraphQL POST may have. Forms and multipart are what a foreign page can send without asking. */
const POST_CONTENT_TYPES = ['application/json', 'application/graphql+json', 'application/graphql'];

/**
 * Cross-site request forgery: a foreign page can make a visitor's browser POST a form (urlencoded,
 * multipart, text/plain) or GET a URL without any CORS preflight. Such requests are refused before the
 * body is parsed: a POST must be JSON (which browsers only send cross-origin after a preflight), and any
 * other request must carry a header a simple request cannot have (Yoga's CSRF prevention: its own
 * `x-graphql-yoga-csrf`, Apollo's `apollo-require-preflight`, or an Authorization header).
 */
export function useCsrfGuard(): Plugin[] {
  return [
    {
      onRequestParse({ request }) {
        if (request.method !== 'POST') return;
        const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
        if (!POST_CONTENT_TYPES.includes(type)) {
          throw new GraphQLError(`A GraphQL POST must have Content-Type application/json, not ${type === '' ? 'none' : JSON.stringify(type.slice(0, 100))}`, {
            extensions: { code: 'UNSUPPORTED_MEDIA_TYPE', http: { status: 415 } },
          });
        }
      },
    },
    useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf', 'apollo-require-preflight', 'authorization'] }) as Plugin,
  ];
}

/**
 * CORS from CORS_ORIGINS only: an origin not listed gets no CORS headers (the browser keeps the answer
 * from the page), and credentials are never allowed: the API's credential is a bearer token the caller
 * sends itself, never a cookie. `*` allows any origin, still without credentials.
 */
export function corsOptions(allowed: readonly string[]): NonNullable<YogaServerOptions<object, object>['cors']> {
  const any = allowed.includes('*');
  return (request: Request) => {
    const origin = request.headers.get('origin');
    if (!origin || !(any || allowed.includes(origin))) return false;
    return {
      origin: [origin],
      credentials: false,
      methods: ['GET', 'POST', 'OPTIONS'],
      allowedHeaders: ['authorization', 'content-type', 'x-graphql-yoga-csrf'],
      maxAge: 600,
    };
  };
}
