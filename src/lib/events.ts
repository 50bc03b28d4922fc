import { randomUUID } from 'node:crypto';
import type { Notifier } from '../db/client.ts';
import type { Logger } from './logger.ts';

/** Events crossing instances. Payloads stay small: NOTIFY carries at most 8000 bytes. */
export interface EventMap {
  /** API key secrets that must stop working now (revoked, tenant deleted or suspended). */
  'keys.invalidated': { hashes: string[] };
  /** Usage sync committed new numbers (every instance re-reads what its subscribers need). */
  'usage.synced': { at: string };
}
export type Topic = keyof EventMap;
type Handler<T extends Topic> = (payload: EventMap[T]) => void;

const CHANNEL = 'xscaler_events';

/** Typed pub/sub over Postgres NOTIFY (in-process on PGlite); handlers also run on the publisher. */
export class EventBus {
  private readonly handlers = new Map<Topic, Set<Handler<Topic>>>();
  private readonly reconnectHandlers = new Set<() => void>();
  private readonly instanceId = randomUUID();
  private unlisten: (() => Promise<void>) | undefined;

  constructor(
    private readonly notifier: Notifier,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.unlisten = await this.notifier.listen(
      CHANNEL,
      (raw) => this.dispatch(raw),
      () => {
        this.logger.warn('event listener reconnected; notifications may have been missed');
        for (const fn of this.reconnectHandlers) fn();
      },
    );
  }

  async stop(): Promise<void> {
    await this.unlisten?.();
    this.unlisten = undefined;
  }

  /**
   * Runs this instance's handlers at once (a revocation must not wait for the round trip), then
   * tells the other instances; our own notification coming back is ignored.
   */
  async publish<T extends Topic>(topic: T, payload: EventMap[T]): Promise<void> {
    this.deliver(topic, payload);
    await this.notifier.notify(CHANNEL, JSON.stringify({ topic, payload, from: this.instanceId }));
  }

  subscribe<T extends Topic>(topic: T, handler: Handler<T>): () => void {
    const set = this.handlers.get(topic) ?? new Set();
    this.handlers.set(topic, set);
    set.add(handler as Handler<Topic>);
    return () => set.delete(handler as Handler<Topic>);
  }

  /** Called when the listening connection came back: anything may have been missed meanwhile. */
  onReconnect(handler: () => void): () => void {
    this.reconnectHandlers.add(handler);
    return () => this.reconnectHandlers.delete(handler);
  }

  private dispatch(raw: string): void {
    let message: { topic: Topic; payload: unknown; from?: string };
    try {
      message = JSON.parse(raw);
    } catch {
      this.logger.warn('ignored malformed event', { raw: raw.slice(0, 200) });
      return;
    }
    if (message.from === this.instanceId) return;
    this.deliver(message.topic, message.payload as EventMap[Topic]);
  }

  private deliver(topic: Topic, payload: EventMap[Topic]): void {
    for (const handler of this.handlers.get(topic) ?? []) {
      try {
        handler(payload);
      } catch (err) {
        this.logger.error('event handler failed', { topic, error: String(err) });
      }
    }
  }
}
