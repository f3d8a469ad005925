import { describe, expect, it } from 'vitest';
import { FinishedTasks } from './finished-tasks.ts';
import type { Task } from './model.ts';

const task = (id: string, status: Task['status']): Task => ({
  id,
  buyerId: 'buyer',
  agentId: 'agent',
  title: 'A task',
  prompt: 'Do it',
  skills: ['writing'],
  complexity: 1,
  maxPrice: 100,
  price: 50,
  status,
  result: status === 'COMPLETED' ? 'done' : null,
  error: null,
  attempts: 1,
  leaseToken: null,
  leaseExpiresAt: null,
  fee: null,
  reviewWindowSeconds: 0,
  reviewDeadline: null,
  changeRequests: [],
  dispute: null,
  createdAt: new Date(0),
  updatedAt: new Date(0),
  completedAt: null,
});

describe('FinishedTasks', () => {
  it('keeps only tasks that can no longer change, frozen so no reader can change the shared copy', () => {
    const known = new FinishedTasks();
    for (const status of ['PENDING', 'ASSIGNED', 'PROCESSING', 'DELIVERED', 'DISPUTED'] as const) known.offer(task(status, status));
    for (const status of ['PENDING', 'ASSIGNED', 'PROCESSING', 'DELIVERED', 'DISPUTED']) expect(known.get(status)).toBeUndefined();

    for (const status of ['COMPLETED', 'FAILED', 'CANCELLED'] as const) known.offer(task(status, status));
    const completed = known.get('COMPLETED');
    expect(completed?.result).toBe('done');
    expect(known.get('FAILED')?.status).toBe('FAILED');
    expect(known.get('CANCELLED')?.status).toBe('CANCELLED');
    expect(() => Object.assign(completed as Task, { status: 'PENDING' })).toThrow(TypeError);
    expect(() => completed?.skills.push('more')).toThrow(TypeError);
  });

  it('forgets the oldest first once full', () => {
    const known = new FinishedTasks();
    for (let i = 0; i < 5_001; i++) known.offer(task(`t${i}`, 'COMPLETED'));
    expect(known.get('t0')).toBeUndefined();
    expect(known.get('t1')?.id).toBe('t1');
    expect(known.get('t5000')?.id).toBe('t5000');
  });
});
