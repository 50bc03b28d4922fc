import type { ExecutionResult, GraphQLError, GraphQLFormattedError } from 'graphql';
import type { WebSocket } from 'ws';
import { markLiveStage } from '../lib/live-stages.ts';
import { resultBytes, resultJson, writeResultsDirectly } from './shared-subscriptions.ts';
import { writeTextFrame } from './ws-text-frames.ts';

const CLOSING_BRACE = Buffer.from('}');

/**
 * Writes a subscription's `next` messages itself, so a result shared by many subscribers is
 * serialised once: the message is `{"id":<id>,"type":"next","payload":<shared JSON>}`, only the
 * id differs. Handed to graphql-ws (its `onOperation` hook) in place of the results: it yields
 * nothing, and ends (or throws) when the results do, so graphql-ws still sends `complete` or
 * `error`, and its `return()` (the client's `complete`, a closed socket) ends the results.
 * Each write waits for the socket, as graphql-ws's own sends do.
 *
 * Clean results of a live subscription (see `writeResultsDirectly`) are written as the feed
 * pushes them, without passing through the results: one at a time per socket, and a result that
 * comes while the last is still being written replaces any other waiting, so a slow client gets
 * the latest snapshot rather than a backlog.
 */
export function writeNextMessages(
  socket: WebSocket,
  id: string,
  results: AsyncIterable<ExecutionResult>,
  formatError: (error: GraphQLError) => GraphQLFormattedError,
  contextValue: object,
): AsyncIterableIterator<never> & { return(): Promise<IteratorResult<never>> } {
  const iterator = results[Symbol.asyncIterator]();
  const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
  const prefixBytes = Buffer.from(prefix);
  let ended = false;
  let writing = false;
  let waitingResult: ExecutionResult | undefined;
  const writeDirect = (result: ExecutionResult) => {
    if (ended || socket.readyState !== socket.OPEN) return;
    if (writing) {
      waitingResult = result;
      return;
    }
    writing = true;
    markLiveStage('socket-written');
    // A failed write means a broken socket: its close ends the operation.
    if (!writeTextFrame(socket, [prefixBytes, resultBytes(result), CLOSING_BRACE], written))
      socket.send(`${prefix}${resultJson(result)}}`, written);
  };
  const written = () => {
    writing = false;
    const next = waitingResult;
    waitingResult = undefined;
    if (next) writeDirect(next);
  };
  writeResultsDirectly(contextValue, writeDirect);
  const payloadOf = (result: ExecutionResult) =>
    result.errors
      ? JSON.stringify({ ...result, errors: result.errors.map(formatError) })
      : resultJson(result);
  const write = (message: string) =>
    new Promise<void>((resolve, reject) => {
      if (socket.readyState !== socket.OPEN) return resolve();
      markLiveStage('socket-written');
      socket.send(message, (err) => (err ? reject(err) : resolve()));
    });
  const pump = async (): Promise<IteratorResult<never>> => {
    for (;;) {
      const step = await iterator.next();
      if (step.done || ended) return { done: true, value: undefined };
      await write(`${prefix}${payloadOf(step.value)}}`);
    }
  };
  let pumping: Promise<IteratorResult<never>> | undefined;
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next: () => {
      pumping ??= pump();
      return pumping;
    },
    async return() {
      ended = true;
      await iterator.return?.();
      return { done: true, value: undefined };
    },
  };
}
