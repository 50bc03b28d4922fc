import { useId } from 'react';
import { CopyButton } from './CopyButton.tsx';

/** A ready-to-paste snippet with its copy button; the text itself stays selectable. */
export function CodeBlock({
  title,
  code,
  shown = code,
}: {
  title: string;
  code: string;
  /** What the page displays, when it differs from what is copied (a masked secret). */
  shown?: string;
}) {
  const id = useId();
  return (
    <figure className="code-block">
      <figcaption id={id}>
        <span>{title}</span>
        <CopyButton text={code} label={`Copy ${title}`} />
      </figcaption>
      {/* Scrollable, so it must take keyboard focus (axe: scrollable-region-focusable). */}
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region is operable by keys */}
      <section aria-labelledby={id} tabIndex={0} className="code-scroll">
        <pre>
          <code>{shown}</code>
        </pre>
      </section>
    </figure>
  );
}
