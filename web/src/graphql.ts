import { initGraphQLTada } from 'gql.tada';
import type { introspection } from './graphql-env.d.ts';

/**
 * The typed `graphql()` tag. Types come from `graphql-env.d.ts`, generated from the top-level schema.graphql
 * (`npx gql-tada generate-output -c web/tsconfig.json`), so a schema change that breaks a document here fails
 * `tsc -p web/tsconfig.json`.
 *
 * Masking is off: components declare the fragments they render and receive plain typed data; they never fetch.
 */
export const graphql = initGraphQLTada<{
  introspection: introspection;
  disableMasking: true;
  scalars: {
    /** ISO-8601 in UTC. */
    DateTime: string;
    /** Whole satoshis; at most 2.1e15, so exact in a JS number. */
    Sats: number;
  };
}>();

export type Role = ReturnType<typeof graphql.scalar<'Role'>>;
export type TaskStatus = ReturnType<typeof graphql.scalar<'TaskStatus'>>;
export type HealthStatus = ReturnType<typeof graphql.scalar<'HealthStatus'>>;
export type AgentMode = ReturnType<typeof graphql.scalar<'AgentMode'>>;
