import { lazy, Suspense, useEffect } from 'react';
import { Provider } from 'urql';
import { clearSession, useAuth, type Session } from './auth.ts';
import { useAppClient, useConnection, type AppClient } from './client.ts';
import { ConnectionIndicator } from './components/ConnectionIndicator.tsx';
import { ErrorBoundary } from './components/ErrorBoundary.tsx';
import { OverviewPage } from './pages/OverviewPage.tsx';
import { href, navigate, useRoute } from './router.ts';

// Only the overview is in the first-load bundle; the rest loads when first needed.
const SignInPage = lazy(() => import('./pages/SignInPage.tsx').then((m) => ({ default: m.SignInPage })));
const BuyerPage = lazy(() => import('./pages/BuyerPage.tsx').then((m) => ({ default: m.BuyerPage })));
const OperatorPage = lazy(() => import('./pages/OperatorPage.tsx').then((m) => ({ default: m.OperatorPage })));
const AdminPage = lazy(() => import('./pages/AdminPage.tsx').then((m) => ({ default: m.AdminPage })));

const workspaceName = { BUYER: 'My tasks', AGENT: 'My agents', ADMIN: 'Admin' } as const;

function Workspace({ session, app, epoch }: { session: Session; app: AppClient; epoch: number }) {
  switch (session.role) {
    case 'BUYER':
      return <BuyerPage app={app} epoch={epoch} />;
    case 'AGENT':
      return <OperatorPage app={app} epoch={epoch} />;
    case 'ADMIN':
      return <AdminPage app={app} epoch={epoch} />;
  }
}

export function App() {
  const app = useAppClient();
  const connection = useConnection(app);
  const { session, notice } = useAuth();
  const route = useRoute();

  // Signed out because the token expired or was rejected: back to sign-in, where the notice says why.
  useEffect(() => {
    if (notice && !session) navigate('signin');
  }, [notice, session]);
  useEffect(() => {
    if (route === 'signin' && session) navigate('workspace');
  }, [route, session]);

  const signOut = () => {
    clearSession();
    navigate('overview');
  };

  return (
    <Provider value={app.client}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <a className="brand" href={href('overview')}>
          <span className="brand-mark" aria-hidden="true">▲</span> AICP
          <span className="brand-sub">live marketplace</span>
        </a>
        <nav aria-label="Main">
          <a href={href('overview')} aria-current={route === 'overview' ? 'page' : undefined} data-testid="nav-overview">
            Overview
          </a>
          {session && (
            <a href={href('workspace')} aria-current={route === 'workspace' ? 'page' : undefined} data-testid="nav-workspace">
              {workspaceName[session.role]}
            </a>
          )}
        </nav>
        <div className="topbar-right">
          <ConnectionIndicator status={connection.status} />
          {session ? (
            <span className="user">
              <span className="user-email" data-testid="user-email">{session.email}</span>
              <span className="badge badge-neutral">{session.role.toLowerCase()}</span>
              <button type="button" onClick={signOut} data-testid="sign-out">
                Sign out
              </button>
            </span>
          ) : (
            <a className="button primary" href={href('signin')} data-testid="nav-signin">
              Sign in
            </a>
          )}
        </div>
      </header>
      <main id="main" key={session?.token ?? 'anonymous'}>
        <ErrorBoundary resetKey={route}>
          <Suspense fallback={<p className="page muted">Loading…</p>}>
            {route === 'overview' && <OverviewPage app={app} role={session?.role ?? null} />}
            {route !== 'overview' && !session && <SignInPage notice={notice} />}
            {route === 'workspace' && session && <Workspace session={session} app={app} epoch={connection.epoch} />}
          </Suspense>
        </ErrorBoundary>
      </main>
      <footer className="footer">
        AICP · tasks and results are shown as plain text · amounts in satoshis
      </footer>
    </Provider>
  );
}
