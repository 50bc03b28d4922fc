import { channel } from 'node:diagnostics_channel';

/**
 * The stages of one live push, from the usage sync to the sockets, in order:
 * - `sync-fetched`: the source's figures are in (source fetch);
 * - `sync-written`: the write transaction committed (DB writes);
 * - `sync-published`: `usage.synced` was sent (NOTIFY);
 * - `feed-event`: this instance's feed heard it (LISTEN);
 * - `feed-read`: the feed's reads and authorization re-checks answered;
 * - `feed-pushed`: every subscriber's value was pushed to its stream;
 * - `executed`: one shared GraphQL execution for an audience (`ms`: how long it took);
 * - `socket-written`: one `next` event handed to a WebSocket or an SSE response (before the write).
 */
export type LiveStage =
  | 'sync-fetched'
  | 'sync-written'
  | 'sync-published'
  | 'feed-event'
  | 'feed-read'
  | 'feed-pushed'
  | 'executed'
  | 'socket-written';

export interface LiveStageMessage {
  stage: LiveStage;
  /** Wall-clock milliseconds (performance.timeOrigin + performance.now()), comparable across processes. */
  at: number;
  ms?: number;
}

/**
 * A diagnostics channel, so measuring costs nothing until a bench or a test subscribes
 * (`diagnostics_channel.subscribe(LIVE_STAGES, ...)`); nothing is buffered.
 */
export const LIVE_STAGES = 'xscaler.live-stages';
const live = channel(LIVE_STAGES);

export function markLiveStage(stage: LiveStage, ms?: number): void {
  if (!live.hasSubscribers) return;
  live.publish({ stage, at: performance.timeOrigin + performance.now(), ms } as LiveStageMessage);
}

/** True while someone listens: lets a caller skip taking a time it would only publish. */
export const liveStagesObserved = () => live.hasSubscribers;
