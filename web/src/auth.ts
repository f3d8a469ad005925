import { useSyncExternalStore } from 'react';
import type { Role } from './graphql.ts';

/** What the dashboard remembers of a sign-in, in localStorage so it survives reloads. */
export interface Session {
  token: string;
  expiresAt: string;
  userId: string;
  email: string;
  role: Role;
}

interface AuthState {
  session: Session | null;
  /** Why the user was signed out (expired or rejected token), shown on the sign-in page. */
  notice: string | null;
}

const STORAGE_KEY = 'aicp.session';
const ROLES: readonly string[] = ['BUYER', 'AGENT', 'ADMIN'];

function isRole(value: unknown): value is Role {
  return typeof value === 'string' && ROLES.includes(value);
}

function parseSession(raw: string | null): Session | null {
  if (!raw) return null;
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value !== 'object' || value === null) return null;
    const { token, expiresAt, userId, email, role } = value as Record<string, unknown>;
    if (typeof token !== 'string' || typeof expiresAt !== 'string' || typeof userId !== 'string') return null;
    if (typeof email !== 'string' || !isRole(role)) return null;
    return { token, expiresAt, userId, email, role };
  } catch {
    return null;
  }
}

function readStorage(): Session | null {
  try {
    return parseSession(localStorage.getItem(STORAGE_KEY));
  } catch {
    return null; // storage disabled (privacy mode): sessions last for the page only
  }
}

function writeStorage(session: Session | null): void {
  try {
    if (session) localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // see readStorage
  }
}

const EXPIRED = 'Your session has expired. Please sign in again.';
let state: AuthState = { session: null, notice: null };
const listeners = new Set<() => void>();
let expiryTimer: ReturnType<typeof setTimeout> | undefined;

function isExpired(session: Session): boolean {
  const at = Date.parse(session.expiresAt);
  return Number.isFinite(at) && at <= Date.now();
}

function emit(next: AuthState): void {
  state = next;
  clearTimeout(expiryTimer);
  const session = next.session;
  if (session) {
    // Sign out at expiry instead of waiting for the server to reject the next request.
    const wait = Date.parse(session.expiresAt) - Date.now();
    if (Number.isFinite(wait)) expiryTimer = setTimeout(() => clearSession(EXPIRED), Math.min(Math.max(wait, 0), 2 ** 31 - 1));
  }
  for (const listener of listeners) listener();
}

function load(): void {
  const stored = readStorage();
  if (stored && isExpired(stored)) {
    writeStorage(null);
    emit({ session: null, notice: EXPIRED });
  } else {
    emit({ session: stored, notice: null });
  }
}

load();

// Another tab signed in or out: follow it.
window.addEventListener('storage', (event) => {
  if (event.key === STORAGE_KEY || event.key === null) {
    const stored = readStorage();
    if (stored?.token !== state.session?.token) emit({ session: stored, notice: null });
  }
});

export function getSession(): Session | null {
  return state.session;
}

export function setSession(session: Session): void {
  writeStorage(session);
  emit({ session, notice: null });
}

/** Forgets the token; `notice` tells the sign-in page why (omit it for a deliberate sign-out). */
export function clearSession(notice?: string): void {
  if (!state.session && !notice) return;
  writeStorage(null);
  emit({ session: null, notice: notice ?? null });
}

export function dismissNotice(): void {
  if (state.notice) emit({ ...state, notice: null });
}

export function subscribeAuth(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function getState(): AuthState {
  return state;
}

export function useAuth(): AuthState {
  return useSyncExternalStore(subscribeAuth, getState);
}
