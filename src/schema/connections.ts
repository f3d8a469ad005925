import { builder } from './builder.ts';

// Every connection reports how many items match in all, computed only when the field is asked for.
builder.globalConnectionField('totalCount', (t) => t.int({ resolve: (connection) => connection.totalCount() }));
