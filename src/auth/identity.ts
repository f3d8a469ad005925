import { BoundedMap } from '../bounded-map.ts';
import type { Role, Viewer } from '../market/model.ts';
import type { Store } from '../market/store.ts';

/** How many users' current roles are remembered, and for how long. */
const CACHE_SIZE = 10_000;
const FRESH_MS = 5_000;

/**
 * Whether the user a valid token names still exists with the role the token claims. A signature only
 * proves who the token was issued to; the account may since have been deleted or had its role changed
 * (ADMIN_EMAIL makes an existing user admin at start). One indexed read per user, remembered for a few
 * seconds (bounded, oldest first), and shared by the requests that ask at the same moment.
 */
export class Identities {
  readonly #roles = new BoundedMap<string, { role: Promise<Role | null>; at: number }>(CACHE_SIZE);

  constructor(private readonly store: Store) {}

  /** null when the token's viewer is still who it says; otherwise why the token is no longer accepted. */
  async problemWith(viewer: Viewer): Promise<string | null> {
    const role = await this.#currentRole(viewer.id);
    if (role === null) return 'the account no longer exists';
    if (role !== viewer.role) return 'the account role changed';
    return null;
  }

  #currentRole(userId: string): Promise<Role | null> {
    const now = Date.now();
    const cached = this.#roles.get(userId);
    if (cached && now - cached.at < FRESH_MS) return cached.role;
    const role = this.store.db
      .selectFrom('users')
      .select('role')
      .where('id', '=', userId)
      .executeTakeFirst()
      .then((row) => (row?.role as Role | undefined) ?? null);
    // A failed read is not remembered: the next request asks again.
    role.catch(() => this.#roles.delete(userId));
    this.#roles.delete(userId);
    this.#roles.set(userId, { role, at: now });
    return role;
  }
}
