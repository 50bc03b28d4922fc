import { useEffect, useState } from 'react';

/** A short-lived confirmation after an action ("… was added"), announced politely. */
export function useStatusMessage(): [string | null, (message: string | null) => void] {
  const [message, setMessage] = useState<string | null>(null);
  useEffect(() => {
    if (!message) return;
    const timer = setTimeout(() => setMessage(null), 8000);
    return () => clearTimeout(timer);
  }, [message]);
  return [message, setMessage];
}
