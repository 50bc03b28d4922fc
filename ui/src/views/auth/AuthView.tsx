import { useState } from 'react';
import { ThemeSelect } from '../../theme/ThemeSelect.tsx';
import { LoginForm } from './LoginForm.tsx';
import { SignupForm } from './SignupForm.tsx';

/** Log in, or sign up a new organisation; `message` says why a session ended. */
export function AuthView({ message }: { message: string | null }) {
  const [mode, setMode] = useState<'login' | 'signup'>('login');
  return (
    <div className="auth-page">
      <header className="auth-header">
        <p className="product">xScaler Portal</p>
        <ThemeSelect />
      </header>
      <main id="main" className="auth-main">
        {message && (
          <p className="notice" role="status">
            {message}
          </p>
        )}
        <div className="auth-card">
          {mode === 'login' ? <LoginForm /> : <SignupForm />}
          <p className="auth-switch">
            {mode === 'login' ? 'New to xScaler?' : 'Already have an account?'}{' '}
            <button
              type="button"
              className="link-button"
              onClick={() => setMode(mode === 'login' ? 'signup' : 'login')}
            >
              {mode === 'login' ? 'Create an organisation' : 'Log in'}
            </button>
          </p>
        </div>
      </main>
    </div>
  );
}
