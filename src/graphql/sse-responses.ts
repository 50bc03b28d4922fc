import type { ServerResponse } from 'node:http';
import type { ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { markLiveStage } from '../lib/live-stages.ts';
import { resultJson, writeResultsDirectly } from './shared-subscriptions.ts';
import { formatForSocket } from './ws.ts';

/** As Yoga's: a comment line at once (some clients wait for a first byte), then every 12 s. */
const PING = ':\n\n';
const PING_INTERVAL_MS = 12_000;
const COMPLETE = 'event: complete\ndata:\n\n';

/**
 * Subscriptions over Server-Sent Events, answered as Yoga's own SSE processor answers them (the
 * same headers, pings, `next` and `complete` events), with one difference: clean results of a
 * live subscription (see `writeResultsDirectly`) are written to the node response as the feed
 * pushes them, past the envelop layers and the fetch-style stream (a promise, an encode and a
 * stream read per layer, per subscriber, per event). Whatever still comes through the stream
 * (results with errors, the end) is enqueued one whole event per chunk, so a direct write can
 * never land inside another event.
 */
export function useSseResponses(): Plugin {
  return {
    onResultProcess({ request, result, resultProcessor, setResultProcessor, serverContext }) {
      // Yoga's node adapter puts the node response in the server context (json-post.ts too).
      const { res } = serverContext as { res?: ServerResponse };
      // An async result has a processor only when the client accepts text/event-stream.
      if (!resultProcessor || !isAsyncIterable(result) || !res) return;
      setResultProcessor(
        (results, fetchAPI) =>
          new fetchAPI.Response(
            eventStream(results as AsyncIterable<ExecutionResult>, request, res, fetchAPI),
            {
              status: 200,
              headers: {
                'Content-Type': 'text/event-stream',
                Connection: 'keep-alive',
                'Cache-Control': 'no-cache',
                'Content-Encoding': 'none',
              },
            },
          ),
        'text/event-stream',
      );
    },
  };
}

function eventStream(
  results: AsyncIterable<ExecutionResult>,
  request: Request,
  res: ServerResponse,
  fetchAPI: { ReadableStream: typeof ReadableStream; TextEncoder: typeof TextEncoder },
): ReadableStream<Uint8Array> {
  const encoder = new fetchAPI.TextEncoder();
  const iterator = results[Symbol.asyncIterator]();
  let ping: ReturnType<typeof setInterval> | undefined;
  let waitingResult: ExecutionResult | undefined;
  const writeDirect = (result: ExecutionResult) => {
    if (res.writableEnded || res.destroyed) return;
    // A client that reads slowly gets the latest snapshot once it catches up, not a backlog.
    if (res.writableNeedDrain) {
      if (waitingResult === undefined) {
        res.once('drain', () => {
          const latest = waitingResult!;
          waitingResult = undefined;
          writeDirect(latest);
        });
      }
      waitingResult = result;
      return;
    }
    markLiveStage('socket-written');
    res.write(`event: next\ndata: ${resultJson(result)}\n\n`);
  };
  writeResultsDirectly(request, writeDirect);
  return new fetchAPI.ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(PING));
      ping = setInterval(() => {
        if (controller.desiredSize === null) clearInterval(ping);
        else if (controller.desiredSize > 0) controller.enqueue(encoder.encode(PING));
      }, PING_INTERVAL_MS);
    },
    async pull(controller) {
      try {
        const step = await iterator.next();
        if (step.value != null) {
          controller.enqueue(encoder.encode(`event: next\ndata: ${eventJson(step.value)}\n\n`));
        }
        if (step.done) {
          clearInterval(ping);
          controller.enqueue(encoder.encode(COMPLETE));
          controller.close();
        }
      } catch (error) {
        clearInterval(ping);
        controller.error(error);
      }
    },
    async cancel() {
      clearInterval(ping);
      await iterator.return?.();
    },
  });
}

/** As Yoga's SSE writer: `extensions.http` (status and headers) leaves the result and its errors. */
function eventJson(result: ExecutionResult): string {
  if (!result.errors && !result.extensions) return resultJson(result);
  const { http: _http, ...extensions } = (result.extensions ?? {}) as Record<string, unknown>;
  return JSON.stringify({
    ...result,
    errors: result.errors?.map(formatForSocket),
    extensions: Object.keys(extensions).length > 0 ? extensions : undefined,
  });
}
