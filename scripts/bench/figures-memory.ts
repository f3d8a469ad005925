/**
 * Figure 7: memory with an empty database (read on the first server right after it answers) and with
 * 100,000 finished tasks (a database filled by populate.ts before this server starts), and how the task
 * list reads then.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runChild } from './child.ts';
import { TASKS } from './figures-http.ts';
import { graphqlBody, type LoadResult, measure } from './load.ts';
import type { PopulateJob, PopulateResult } from './populate.ts';
import { type BenchServer, type ServerOptions, startServer } from './server.ts';

export interface MemoryFigures {
  tasks: number;
  populateSeconds: number;
  rssIdle: number;
  rssAfterReads: number;
  /** tasks(first: 20) with agents, as a buyer owning tasks / 10 of them. */
  buyerTasks: LoadResult;
  /** The same as the admin, who sees all of them. */
  adminTasks: LoadResult;
}

export async function memoryFigure(
  options: Omit<ServerOptions, 'name'>,
  tasks: number,
  seconds: number,
  log: (line: string) => void,
): Promise<{ figures: MemoryFigures; server: BenchServer }> {
  log(`figure 7: writing ${tasks} finished tasks to a fresh database`);
  const job: PopulateJob = { databaseFile: join(options.dir, 'aicp.sqlite'), tasks, buyers: 10 };
  const populated = await runChild<PopulateResult>('./populate.ts', job).result;
  log(`  done in ${populated.seconds.toFixed(1)} s; starting a server on it`);
  const server = await startServer({ ...options, name: 'memory' });
  await sleep(2000);
  const rssIdle = server.rss();
  const { logIn } = await server.gql<{ logIn: { token: string } }>(
    'mutation ($input: LogInInput!) { logIn(input: $input) { ... on AuthPayload { token } } }',
    { input: { email: populated.buyerEmail, password: populated.buyerPassword } },
  );
  const common = { url: server.graphqlUrl, body: graphqlBody(TASKS), connections: 32, warmupSeconds: 1, seconds, expect: '"agent' };
  const buyerTasks = await measure({ ...common, tokens: [logIn.token] });
  const adminTasks = await measure({ ...common, tokens: [await server.adminToken()] });
  const rssAfterReads = server.rss();
  return { figures: { tasks, populateSeconds: populated.seconds, rssIdle, rssAfterReads, buyerTasks, adminTasks }, server };
}
