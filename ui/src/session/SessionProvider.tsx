import { createContext, type ReactNode, useContext, useEffect, useSyncExternalStore } from 'react';
import { Provider as UrqlProvider } from 'urql';
import type {
  AuthFailure,
  Organisation,
  SessionController,
  SessionState,
  User,
} from './controller.ts';

export interface Session {
  state: SessionState;
  login(email: string, password: string): Promise<AuthFailure | null>;
  signup(organisationName: string, email: string, password: string): Promise<AuthFailure | null>;
  logout(): Promise<void>;
  /** Reads `me` and `organisation` again (after a change of plan, name or role). */
  reloadViewer(): Promise<void>;
}

const SessionContext = createContext<SessionController | null>(null);

/** Holds the session and gives its children the urql Client of the signed-in user. */
export function SessionProvider({
  controller,
  children,
}: {
  controller: SessionController;
  children: ReactNode;
}) {
  useSyncExternalStore(controller.subscribe, controller.getState);
  useEffect(() => {
    void controller.boot();
    const onVisibility = () => {
      if (document.visibilityState === 'visible') controller.onVisible();
    };
    document.addEventListener('visibilitychange', onVisibility);
    return () => document.removeEventListener('visibilitychange', onVisibility);
  }, [controller]);
  return (
    <SessionContext.Provider value={controller}>
      <UrqlProvider value={controller.client}>{children}</UrqlProvider>
    </SessionContext.Provider>
  );
}

function useController(): SessionController {
  const controller = useContext(SessionContext);
  if (!controller) throw new Error('useSession() outside <SessionProvider>');
  return controller;
}

/** The session's state and actions. */
export function useSession(): Session {
  const controller = useController();
  const state = useSyncExternalStore(controller.subscribe, controller.getState);
  return {
    state,
    login: (email, password) => controller.login(email, password),
    signup: (organisationName, email, password) =>
      controller.signup(organisationName, email, password),
    logout: () => controller.logout(),
    reloadViewer: () => controller.reloadViewer(),
  };
}

/** The signed-in user and organisation; only for views rendered inside the signed-in shell. */
export function useViewer(): {
  user: User;
  organisation: Organisation;
  /** Owners and admins change things; viewers only read. */
  canWrite: boolean;
} {
  const { state } = useSession();
  if (state.status !== 'signedIn') throw new Error('useViewer() while signed out');
  return {
    user: state.user,
    organisation: state.organisation,
    canWrite: state.user.role === 'owner' || state.user.role === 'admin',
  };
}
