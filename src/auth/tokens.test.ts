import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { TokenError, Tokens } from './tokens.ts';

const options = { secret: 'a-test-secret-of-at-least-thirty-two-characters', issuer: 'aicp', audience: 'aicp-api' };

describe('Tokens', () => {
  it('accepts its own token again and again, and refuses it once it has expired, even after it was accepted', async () => {
    // Long enough that the three verifications below finish before it expires on a loaded machine.
    const tokens = new Tokens({ ...options, ttlSeconds: 3 });
    const { token, expiresAt } = await tokens.issue({ id: 'user-1', role: 'BUYER' });
    // Verified once, then answered from what the first verification learned.
    for (let i = 0; i < 3; i++) expect(await tokens.verify(token)).toEqual({ id: 'user-1', role: 'BUYER' });
    await sleep(expiresAt.getTime() - Date.now() + 50);
    await expect(tokens.verify(token)).rejects.toThrow(new TokenError('token expired'));
    await expect(tokens.verify(token)).rejects.toThrow(new TokenError('token expired'));
  });

  it('never accepts a token signed with another secret, nor one changed after signing', async () => {
    const mine = new Tokens({ ...options, ttlSeconds: 60 });
    const theirs = new Tokens({ ...options, secret: 'another-secret-of-at-least-thirty-two-characters', ttlSeconds: 60 });
    const { token } = await theirs.issue({ id: 'user-2', role: 'ADMIN' });
    await expect(mine.verify(token)).rejects.toBeInstanceOf(TokenError);

    const { token: own } = await mine.issue({ id: 'user-3', role: 'BUYER' });
    expect(await mine.verify(own)).toEqual({ id: 'user-3', role: 'BUYER' });
    const [header, payload, signature] = own.split('.');
    const promoted = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), role: 'ADMIN' })).toString('base64url');
    await expect(mine.verify(`${header}.${promoted}.${signature}`)).rejects.toThrow(new TokenError('token invalid'));
  });
});
