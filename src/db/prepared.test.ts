import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from './create-db.ts';
import { PreparedStatement } from './prepared.ts';

let dir: string;
let db: Db;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'aicp-prepared-'));
  db = await createDb(join(dir, 'prepared.sqlite'));
});
afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('PreparedStatement', () => {
  it('builds once and runs with each call’s values, keeping the values fixed in the statement', async () => {
    let builds = 0;
    const insert = new PreparedStatement<{ name: string; value: number }>((kysely, value) => {
      builds++;
      return kysely.insertInto('counters').values({ name: value('name'), value: value('value') });
    });
    // 'fixed.' is a constant of the statement, bound as a parameter like the values are.
    const bump = new PreparedStatement<{ name: string; by: number }, { value: number }>((kysely, value) =>
      kysely
        .updateTable('counters')
        .set((eb) => ({ value: eb('value', '+', value('by')) }))
        .where('name', '=', value('name'))
        .where('name', '!=', 'fixed.')
        .returning('value'),
    );
    const runner = { db: db.kysely, dialect: db.dialect };
    await insert.run(runner, { name: 'a', value: 1 });
    await insert.run(runner, { name: 'b', value: 20 });
    expect(builds).toBe(1);
    expect((await bump.run(runner, { name: 'a', by: 5 })).rows).toEqual([{ value: 6 }]);
    expect((await bump.run(runner, { name: 'b', by: -2 })).rows).toEqual([{ value: 18 }]);
    expect((await bump.run(runner, { name: 'missing', by: 1 })).rows).toEqual([]);
    const rows = await db.kysely.selectFrom('counters').selectAll().where('name', 'in', ['a', 'b']).orderBy('name').execute();
    expect(rows.map((r) => [r.name, Number(r.value)])).toEqual([
      ['a', 6],
      ['b', 18],
    ]);
  });
});
