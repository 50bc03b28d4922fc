import { useId } from 'react';
import { setThemePreference, type ThemePreference, useThemePreference } from './theme.ts';

/** Light / dark / system, persisted in localStorage. */
export function ThemeSelect() {
  const id = useId();
  const preference = useThemePreference();
  return (
    <div className="theme-select">
      <label htmlFor={id}>Theme</label>
      <select
        id={id}
        value={preference}
        onChange={(e) => setThemePreference(e.currentTarget.value as ThemePreference)}
      >
        <option value="system">System</option>
        <option value="light">Light</option>
        <option value="dark">Dark</option>
      </select>
    </div>
  );
}
