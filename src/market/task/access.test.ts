import { describe, expect, it } from 'vitest';
import { AccessError, NotFoundError } from '../errors.ts';
import type { Viewer } from '../model.ts';
import { authorize, listScope, may, TaskActions, type TaskAction } from './access.ts';

const buyer: Viewer = { id: 'b1', role: 'BUYER' };
const otherBuyer: Viewer = { id: 'b2', role: 'BUYER' };
const operator: Viewer = { id: 'o1', role: 'AGENT' };
const otherOperator: Viewer = { id: 'o2', role: 'AGENT' };
const admin: Viewer = { id: 'a1', role: 'ADMIN' };
const task = { buyerId: 'b1', agentId: 'agent-1' };
const operatorOfAgent = 'o1';

describe('the task access table', () => {
  const cases: [string, Viewer | null, Record<TaskAction, boolean>][] = [
    ['its buyer', buyer, { read: true, cancel: true, submitResult: false, review: true, resolveDispute: false }],
    ['the operator of its agent', operator, { read: true, cancel: false, submitResult: true, review: false, resolveDispute: false }],
    ['an admin', admin, { read: true, cancel: false, submitResult: false, review: false, resolveDispute: true }],
    ['another buyer', otherBuyer, { read: false, cancel: false, submitResult: false, review: false, resolveDispute: false }],
    ['another operator', otherOperator, { read: false, cancel: false, submitResult: false, review: false, resolveDispute: false }],
    ['anonymous', null, { read: false, cancel: false, submitResult: false, review: false, resolveDispute: false }],
  ];
  it.each(cases)('%s', (_who, viewer, expected) => {
    const actual = Object.fromEntries((Object.keys(TaskActions) as TaskAction[]).map((action) => [action, may(viewer, action, task, operatorOfAgent)]));
    expect(actual).toEqual(expected);
  });

  it('an operator is a party only while the task is with their agent', () => {
    expect(may(operator, 'read', { buyerId: 'b1', agentId: null }, null)).toBe(false);
    expect(may(operator, 'read', { buyerId: 'b1', agentId: 'agent-2' }, 'o2')).toBe(false);
  });

  it('a buyer who happens to share an id with an agent operator is not that operator (roles differ)', () => {
    expect(may({ id: 'o1', role: 'BUYER' }, 'submitResult', task, operatorOfAgent)).toBe(false);
  });

  it('refusals: a task you cannot read is not found; one you can read but not act on is forbidden', () => {
    expect(() => authorize(otherBuyer, 'cancel', task, operatorOfAgent)).toThrow(NotFoundError);
    expect(() => authorize(buyer, 'cancel', null, null)).toThrow(NotFoundError);
    expect(() => authorize(admin, 'cancel', task, operatorOfAgent)).toThrow(AccessError);
    expect(() => authorize(operator, 'review', task, operatorOfAgent)).toThrow(AccessError);
    expect(() => authorize(buyer, 'review', task, operatorOfAgent)).not.toThrow();
  });

  it('lists: a buyer their own, an operator their agents\', an admin all, anonymous none', () => {
    expect(listScope(buyer)).toEqual({ buyerId: 'b1' });
    expect(listScope(operator)).toEqual({ operatorId: 'o1' });
    expect(listScope(admin)).toEqual({ all: true });
    expect(listScope(null)).toEqual({ none: true });
  });
});
