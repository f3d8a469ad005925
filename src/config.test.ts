/** The settings several instances depend on: a Redis prefix per deployment and an id per process. */
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

const base = { DATABASE_URL: ':memory:' };

describe('REDIS_PREFIX and INSTANCE_ID', () => {
  it('default to "aicp:" and <hostname>-<pid>-<random>, different for every loaded config', () => {
    const [a, b] = [loadConfig(base), loadConfig(base)];
    expect(a.redisPrefix).toBe('aicp:');
    expect(a.instanceId).toMatch(new RegExp(`^${hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-${process.pid}-[0-9a-f]{6}$`));
    expect(b.instanceId).not.toBe(a.instanceId);
  });

  it('take what the environment says', () => {
    const config = loadConfig({ ...base, REDIS_PREFIX: 'staging:aicp:', INSTANCE_ID: 'web-2' });
    expect(config.redisPrefix).toBe('staging:aicp:');
    expect(config.instanceId).toBe('web-2');
  });

  it('refuse a prefix or id that would not be one plain token, naming both', () => {
    let error: unknown;
    try {
      loadConfig({ ...base, REDIS_PREFIX: 'two words', INSTANCE_ID: 'a*b' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.split(':')[0])).toEqual(['REDIS_PREFIX', 'INSTANCE_ID']);
  });
});
