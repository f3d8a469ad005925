/**
 * The admin's user list (search by part of the email, role filter, newest first, paging, admins only) and
 * the title search every task list has, through the real server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './harness.ts';
import { describeEachDialect } from './test-database.ts';
import { marketOps, type MarketOps } from './market-ops.ts';

const USERS = `query ($first: Int, $after: String, $search: String, $role: Role) {
  users(first: $first, after: $after, search: $search, role: $role) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id email role balance } }
  }
}`;
const TASKS = `query ($search: String, $status: TaskStatus) { tasks(first: 50, search: $search, status: $status) { totalCount edges { node { title } } } }`;

describeEachDialect('admin lists', (dialect) => {
  describeEachDialect('admin lists', (dialect) => {
  let server: TestServer;
    let ops: MarketOps;
    const stamp = Date.now();

    beforeAll(async () => {
      // No agents: tasks stay PENDING, so their statuses are known.
      server = await startServer({ SEED_AGENTS: 'false' }, { dialect });
      ops = marketOps(server.gql);
    });
    afterAll(async () => {
      await server?.stop();
    });

    describe('users()', () => {
      it('finds users by part of their email, ignoring case, newest first, with their balance', async () => {
        const older = await ops.signUp('BUYER', `carol-${stamp}@shop.test`);
        const newer = await ops.signUp('AGENT', `Caroline-${stamp}@shop.test`.toLowerCase());
        await ops.signUp('BUYER', `dave-${stamp}@shop.test`);
        await ops.credit(older.id, 1234);
        const res = await server.gql(USERS, { search: `CAROL`, first: 10 }, await ops.adminToken());
        const page = res.data?.users;
        expect(page.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([newer.id, older.id]);
        expect(page.totalCount).toBe(2);
        expect(page.edges[1].node).toEqual({ id: older.id, email: older.email, role: 'BUYER', balance: 1234 });
      });

      it('filters by role and pages with after', async () => {
        const tag = `paging-${stamp}`;
        const made = [];
        for (let i = 0; i < 3; i++) made.push(await ops.signUp('BUYER', `${tag}-${i}@shop.test`));
        const admin = await ops.adminToken();
        const first = (await server.gql(USERS, { search: tag, role: 'BUYER', first: 2 }, admin)).data?.users;
        expect(first.pageInfo.hasNextPage).toBe(true);
        const second = (await server.gql(USERS, { search: tag, role: 'BUYER', first: 2, after: first.pageInfo.endCursor }, admin)).data?.users;
        const ids = [...first.edges, ...second.edges].map((e: { node: { id: string } }) => e.node.id);
        expect(ids).toEqual(made.map((u) => u.id).reverse());
        expect((await server.gql(USERS, { search: tag, role: 'AGENT' }, admin)).data?.users.totalCount).toBe(0);
      });

      it('matches % and _ literally', async () => {
        await ops.signUp('BUYER', `wild-${stamp}@shop.test`);
        const admin = await ops.adminToken();
        // As LIKE wildcards, "_" would match the "-" and "%" anything.
        expect((await server.gql(USERS, { search: `wild_${stamp}` }, admin)).data?.users.totalCount).toBe(0);
        expect((await server.gql(USERS, { search: `wild%${stamp}` }, admin)).data?.users.totalCount).toBe(0);
        expect((await server.gql(USERS, { search: `wild-${stamp}` }, admin)).data?.users.totalCount).toBe(1);
      });

      it('is for admins only', async () => {
        const buyer = await ops.signUp('BUYER');
        const res = await server.gql(USERS, {}, buyer.token);
        expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
        expect((await server.gql(USERS, {})).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      });
    });

    describe('tasks(search)', () => {
      it("searches a buyer's own tasks by title, with the status filter", async () => {
        const buyer = await ops.fundedBuyer();
        const other = await ops.fundedBuyer();
        await ops.createTask(buyer.token, { title: 'Translate the Menu', maxPrice: 1000 });
        await ops.createTask(buyer.token, { title: 'Write a poem', maxPrice: 1000 });
        await ops.createTask(other.token, { title: 'Translate a letter', maxPrice: 1000 });
        const found = (await server.gql(TASKS, { search: 'translate' }, buyer.token)).data?.tasks;
        expect(found.edges.map((e: { node: { title: string } }) => e.node.title)).toEqual(['Translate the Menu']);
        expect(found.totalCount).toBe(1);
        expect((await server.gql(TASKS, { search: 'translate', status: 'COMPLETED' }, buyer.token)).data?.tasks.totalCount).toBe(0);
        expect((await server.gql(TASKS, { search: 'TRANSLATE', status: 'PENDING' }, await ops.adminToken())).data?.tasks.totalCount).toBe(2);
      });
    });
  });
});
