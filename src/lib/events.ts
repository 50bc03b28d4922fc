import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Notifier } from '../db/client.ts';
import type { Tx } from './deps.ts';
import type { Logger } from './logger.ts';
import type { EventRecorder } from './metrics.ts';

/**
 * Events crossing instances. Payloads stay small and bounded (NOTIFY carries at most 8000 bytes):
 * IDs and a handful of hashes, never a list that grows with the data.
 */
export interface EventMap {
  /** One key's secrets changed (revoked, rolled): its current and previous hash, at most two. */
  'key.invalidated': { keyId: string; hashes: string[] };
  /** A tenant was suspended, resumed or deleted: every cached secret of it must be looked up again. */
  'tenant.invalidated': { tenantId: string };
  /** Usage sync committed new numbers (every instance re-reads what its subscribers need). */
  'usage.synced': { at: string };
  /** A usage sync took an organisation across 80% or 100% of a limit (billing/usage-alerts.ts). */
  'usage.alert': UsageAlertEvent;
}

export interface UsageAlertEvent {
  id: number;
  organisationId: string;
  limit: string;
  threshold: number;
  used: number;
  max: number;
  at: string;
}
export type Topic = keyof EventMap;
type Handler<T extends Topic> = (payload: EventMap[T]) => void;

const CHANNEL = 'xscaler_events';
/** PostgreSQL refuses longer NOTIFY payloads. */
const MAX_PAYLOAD_BYTES = 7_999;

/** Typed pub/sub over Postgres NOTIFY (in-process on PGlite); handlers also run on the publisher. */
export class EventBus {
  private readonly handlers = new Map<Topic, Set<Handler<Topic>>>();
  /** Handlers of the events this instance published only (see subscribeOwn). */
  private readonly ownHandlers = new Map<Topic, Set<Handler<Topic>>>();
  private readonly reconnectHandlers = new Set<() => void>();
  private readonly instanceId = randomUUID();
  private unlisten: (() => Promise<void>) | undefined;

  constructor(
    private readonly notifier: Notifier,
    private readonly logger: Logger,
    /** PostgreSQL: NOTIFY through the transaction's connection, so it commits with the change. */
    private readonly notifyInTransaction = false,
    private readonly recorder?: EventRecorder,
  ) {}

  async start(): Promise<void> {
    this.unlisten = await this.notifier.listen(
      CHANNEL,
      (raw) => this.dispatch(raw),
      () => {
        this.logger.warn('event listener reconnected; notifications may have been missed');
        this.recorder?.reconnect();
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
    const raw = this.encode(topic, payload);
    this.deliver(topic, payload, true);
    await this.notifier.notify(CHANNEL, raw);
  }

  /**
   * Publishes as part of tx: on PostgreSQL the NOTIFY is sent on the transaction's connection, so
   * other instances get it exactly when the change commits, never for a change rolled back. Call
   * the returned function after the commit: it runs this instance's handlers then (running them
   * earlier would let a lookup re-read the old row before the commit and cache it after), and on
   * PGlite tells the in-process listeners.
   */
  async publishInTransaction<T extends Topic>(
    tx: Tx,
    topic: T,
    payload: EventMap[T],
  ): Promise<() => Promise<void>> {
    const raw = this.encode(topic, payload);
    if (this.notifyInTransaction) await tx.execute(sql`select pg_notify(${CHANNEL}, ${raw})`);
    return async () => {
      this.deliver(topic, payload, true);
      if (!this.notifyInTransaction) await this.notifier.notify(CHANNEL, raw);
    };
  }

  subscribe<T extends Topic>(topic: T, handler: Handler<T>): () => void {
    return EventBus.add(this.handlers, topic, handler);
  }

  /**
   * Runs handler only for the events this instance publishes: work one instance does for all
   * (the sync leader's alert evaluation), where every instance doing it would multiply the load.
   */
  subscribeOwn<T extends Topic>(topic: T, handler: Handler<T>): () => void {
    return EventBus.add(this.ownHandlers, topic, handler);
  }

  private static add<T extends Topic>(
    handlers: Map<Topic, Set<Handler<Topic>>>,
    topic: T,
    handler: Handler<T>,
  ): () => void {
    const set = handlers.get(topic) ?? new Set();
    handlers.set(topic, set);
    set.add(handler as Handler<Topic>);
    return () => set.delete(handler as Handler<Topic>);
  }

  /** Called when the listening connection came back: anything may have been missed meanwhile. */
  onReconnect(handler: () => void): () => void {
    this.reconnectHandlers.add(handler);
    return () => this.reconnectHandlers.delete(handler);
  }

  private encode<T extends Topic>(topic: T, payload: EventMap[T]): string {
    const raw = JSON.stringify({ topic, payload, from: this.instanceId });
    if (Buffer.byteLength(raw) > MAX_PAYLOAD_BYTES) {
      throw new Error(`event ${topic} is ${Buffer.byteLength(raw)} bytes, over the NOTIFY limit`);
    }
    return raw;
  }

  private dispatch(raw: string): void {
    let message: { topic: Topic; payload: unknown; from?: string };
    try {
      message = JSON.parse(raw);
    } catch {
      this.logger.warn({ raw: raw.slice(0, 200) }, 'ignored malformed event');
      return;
    }
    if (message.from === this.instanceId) return;
    this.recorder?.notification();
    this.deliver(message.topic, message.payload as EventMap[Topic], false);
  }

  private deliver(topic: Topic, payload: EventMap[Topic], own: boolean): void {
    this.run(this.handlers.get(topic), topic, payload);
    if (own) this.run(this.ownHandlers.get(topic), topic, payload);
  }

  private run(handlers: Set<Handler<Topic>> | undefined, topic: Topic, payload: EventMap[Topic]) {
    for (const handler of handlers ?? []) {
      try {
        handler(payload);
      } catch (err) {
        this.logger.error({ topic, error: String(err) }, 'event handler failed');
      }
    }
  }
}
