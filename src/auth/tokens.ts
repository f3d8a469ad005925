import { createSecretKey, type KeyObject } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { BoundedMap } from '../bounded-map.ts';
import type { Config } from '../config.ts';
import type { Role, Viewer } from '../market/model.ts';

const ALGORITHM = 'HS256';
const ROLES: readonly Role[] = ['BUYER', 'AGENT', 'ADMIN'];

export interface IssuedToken {
  token: string;
  expiresAt: Date;
}

/** How many verified tokens are remembered; the oldest is forgotten first. */
const VERIFIED_CACHE_SIZE = 10_000;

/** Signs and verifies the API's bearer tokens. The algorithm is pinned on verify: no `alg: none`, no RS/HS confusion. */
export class Tokens {
  // A KeyObject made once: given raw bytes, jose would import the key again on every sign and verify.
  readonly #key: KeyObject;
  /**
   * token -> who it names and when it expires. Verifying an HS256 token costs about 40 µs of HMAC and
   * claim parsing, paid on every request a client makes with it. Everything a verification checks but
   * the expiry is fixed for a given token string (signature, issuer, audience, subject, role), so a
   * token verified once is accepted again until its `exp`, which is checked on every use.
   */
  readonly #verified = new BoundedMap<string, { viewer: Viewer; expiresAtSeconds: number }>(VERIFIED_CACHE_SIZE);
  constructor(private readonly options: Config['jwt']) {
    this.#key = createSecretKey(Buffer.from(options.secret, 'utf8'));
  }

  async issue(viewer: Viewer): Promise<IssuedToken> {
    const issuedAt = Math.floor(Date.now() / 1000);
    const expiresAt = issuedAt + this.options.ttlSeconds;
    const token = await new SignJWT({ role: viewer.role })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setSubject(viewer.id)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .sign(this.#key);
    return { token, expiresAt: new Date(expiresAt * 1000) };
  }

  /** The viewer a token names, or a TokenError saying why it is not accepted. */
  async verify(token: string): Promise<Viewer> {
    return (await this.verifyWithExpiry(token)).viewer;
  }

  /** The viewer and the token's `exp` (seconds): a live subscription opened with it ends then. */
  async verifyWithExpiry(token: string): Promise<{ viewer: Viewer; expiresAtSeconds: number }> {
    const known = this.#verified.get(token);
    if (known) {
      if (Math.floor(Date.now() / 1000) < known.expiresAtSeconds) return known;
      this.#verified.delete(token);
      throw new TokenError('token expired');
    }
    try {
      const { payload } = await jwtVerify(token, this.#key, {
        algorithms: [ALGORITHM],
        issuer: this.options.issuer,
        audience: this.options.audience,
        requiredClaims: ['sub', 'exp', 'iat'],
      });
      const role = payload.role;
      if (typeof payload.sub !== 'string' || !ROLES.includes(role as Role)) throw new TokenError('malformed token');
      const verified = { viewer: { id: payload.sub, role: role as Role }, expiresAtSeconds: payload.exp as number };
      this.#verified.set(token, verified);
      return verified;
    } catch (error) {
      throw translate(error);
    }
  }
}

export class TokenError extends Error {
  override name = 'TokenError';
}

/** jose's errors are an implementation detail: the rest of the app sees one TokenError with a plain reason. */
function translate(error: unknown): TokenError {
  if (error instanceof TokenError) return error;
  if (error instanceof errors.JWTExpired) return new TokenError('token expired');
  if (error instanceof errors.JWTClaimValidationFailed) return new TokenError(`token rejected: ${error.claim} claim invalid`);
  if (error instanceof errors.JOSEError) return new TokenError('token invalid');
  return new TokenError('token invalid');
}

/** `Bearer <token>` -> token; anything else -> undefined. */
export function bearerToken(header: string | null | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}
