import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { getAppClient } from './client.ts';
import { prefetchOverview } from './pages/OverviewPage.tsx';
import './styles.css';

if (window.location.hash === '' || window.location.hash === '#/') prefetchOverview(getAppClient().client);

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
