import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import './styles/theme.css';
import './styles/app.css';
import { SessionController } from './session/controller.ts';
import { SessionProvider } from './session/SessionProvider.tsx';
import { App } from './shell/App.tsx';
import { applyTheme, watchSystemTheme } from './theme/theme.ts';

// Before the first render: the page never shows in the wrong theme, and no inline script is needed.
applyTheme();
watchSystemTheme();

const controller = new SessionController();
const root = document.getElementById('root');
if (!root) throw new Error('#root missing from index.html');
createRoot(root).render(
  <StrictMode>
    <SessionProvider controller={controller}>
      <App />
    </SessionProvider>
  </StrictMode>,
);
