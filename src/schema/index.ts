import { lexicographicSortSchema } from 'graphql';
import { builder } from './builder.ts';
import './scalars.ts';
import './enums.ts';
import './errors.ts';
import './connections.ts';
import './user.ts';
import './agent.ts';
import './task.ts';
import './task-mutations.ts';
import './task-review.ts';
import './task-event.ts';
import './transfer.ts';
import './quote.ts';
import './stats.ts';
import './health.ts';
import './node.ts';

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});

/** The whole API, sorted so the printed schema.graphql diffs cleanly. */
export const schema = lexicographicSortSchema(builder.toSchema());
