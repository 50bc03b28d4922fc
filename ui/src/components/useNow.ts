import { useEffect, useState } from 'react';

/** The current time in ms, re-read every `everyMs`: relative times ("2 minutes ago") stay true. */
export function useNow(everyMs = 10_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
