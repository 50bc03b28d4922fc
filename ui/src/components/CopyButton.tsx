import { useEffect, useState } from 'react';

/**
 * Copies through the Clipboard API where the page may use it (HTTPS or localhost), otherwise
 * through a selected off-screen textarea and execCommand, which plain-HTTP pages still allow.
 */
export async function copyText(text: string): Promise<boolean> {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Permission refused: fall through to the selection.
    }
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.className = 'copy-buffer';
  const focused = document.activeElement as HTMLElement | null;
  document.body.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  focused?.focus();
  return ok;
}

interface CopyButtonProps {
  text: string;
  /** What is copied, for the accessible name: "Copy API key". */
  label: string;
  className?: string;
}

export function CopyButton({ text, label, className }: CopyButtonProps) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const timer = setTimeout(() => setState('idle'), 2500);
    return () => clearTimeout(timer);
  }, [state]);
  return (
    <button
      type="button"
      className={`button secondary copy-button ${className ?? ''}`}
      onClick={async () => setState((await copyText(text)) ? 'copied' : 'failed')}
      aria-label={label}
    >
      <span aria-hidden="true">{state === 'copied' ? 'Copied' : 'Copy'}</span>
      <span className="visually-hidden" role="status">
        {state === 'copied'
          ? 'Copied'
          : state === 'failed'
            ? 'Copy failed: select the text and copy it'
            : ''}
      </span>
    </button>
  );
}
