import { useSyncExternalStore } from 'react';

/** What the user chose; 'system' follows prefers-color-scheme. Only this goes to localStorage. */
export type ThemePreference = 'light' | 'dark' | 'system';

const STORAGE_KEY = 'xscaler.theme';
const media = () => window.matchMedia('(prefers-color-scheme: dark)');
const listeners = new Set<() => void>();

function readStored(): ThemePreference {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return value === 'light' || value === 'dark' ? value : 'system';
  } catch {
    return 'system'; // storage disabled
  }
}

let preference: ThemePreference = 'system';

/**
 * Sets data-theme on <html> (the CSS reads it). Called by the entry module before React's first
 * render, so there is no flash of the wrong theme and no inline script is needed.
 */
export function applyTheme(next: ThemePreference = readStored()): void {
  preference = next;
  const dark = next === 'dark' || (next === 'system' && media().matches);
  const root = document.documentElement;
  root.dataset.theme = dark ? 'dark' : 'light';
  for (const listener of listeners) listener();
}

export function setThemePreference(next: ThemePreference): void {
  try {
    if (next === 'system') localStorage.removeItem(STORAGE_KEY);
    else localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // Not persisted; still applied for this page.
  }
  applyTheme(next);
}

/** Follows the OS setting while the preference is 'system'. */
export function watchSystemTheme(): void {
  media().addEventListener('change', () => {
    if (preference === 'system') applyTheme('system');
  });
}

export function useThemePreference(): ThemePreference {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => preference,
  );
}
