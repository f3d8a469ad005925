import { useSyncExternalStore } from 'react';

/** Hash routes: the API process serves one index.html, and hash URLs need no server cooperation. */
export type Route = 'overview' | 'signin' | 'workspace';

function parse(hash: string): Route {
  const path = hash.replace(/^#\/?/, '');
  if (path === 'signin') return 'signin';
  if (path === 'workspace') return 'workspace';
  return 'overview';
}

function subscribe(listener: () => void): () => void {
  window.addEventListener('hashchange', listener);
  return () => window.removeEventListener('hashchange', listener);
}

function getRoute(): Route {
  return parse(window.location.hash);
}

export function useRoute(): Route {
  return useSyncExternalStore(subscribe, getRoute);
}

export function href(route: Route): string {
  return route === 'overview' ? '#/' : `#/${route}`;
}

export function navigate(route: Route): void {
  if (getRoute() !== route || window.location.hash === '') window.location.hash = href(route);
}
