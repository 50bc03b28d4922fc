/**
 * One subscriber's stream of snapshots (a figure that the next one supersedes): a consumer that
 * falls behind gets the latest value, never a backlog. Cheaper per event than a general
 * push-iterator (Repeater): one resolved promise per value, nothing allocated while idle, which
 * counts when one event is pushed to 10,000 streams.
 *
 * `end(error)` ends the stream after the value it still holds: the error is thrown to the
 * consumer, or the stream completes without one. As with Repeater, nothing starts until the
 * consumer first asks: `hooks.start` runs at the first `next()`, and `hooks.end` once after it,
 * whichever side ended the stream (`end`, or the consumer's `return()`).
 */
export interface LiveStream<T> {
  iterator: LiveIterator<T>;
  push(value: T): void;
  end(error?: Error): void;
}

/** Takes a stream's values as they are pushed, in place of reading them (see `listenLive`). */
export interface LiveListener<T> {
  next(value: T): void;
  end(error?: Error): void;
}

const LISTEN = Symbol('live-stream.listen');

export interface LiveIterator<T> extends AsyncIterableIterator<T> {
  [LISTEN](listener: LiveListener<T>): boolean;
}

/**
 * Switches a live stream, before its first read, from being read to calling `listener` inside
 * each `push` and `end`: no promise per value, which counts when one event reaches 10,000
 * streams. Starts the stream as a first read would; its `return()` still ends it. False (and
 * nothing changed) for any other iterable, or a stream already read.
 */
export function isLiveStream(source: unknown): boolean {
  return typeof (source as Partial<LiveIterator<unknown>> | null)?.[LISTEN] === 'function';
}

export function listenLive<T>(source: unknown, listener: LiveListener<T>): boolean {
  const listen = (source as Partial<LiveIterator<T>> | null)?.[LISTEN];
  return typeof listen === 'function' && listen.call(source, listener);
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

export function createLiveStream<T>(hooks: { start(): void; end(): void }): LiveStream<T> {
  let started = false;
  let held: { value: T } | undefined;
  let waiting: { resolve(r: IteratorResult<T>): void; reject(e: Error): void } | undefined;
  let ended = false;
  let failure: Error | undefined;
  let listener: LiveListener<T> | undefined;

  const finish = () => {
    if (ended) return;
    ended = true;
    if (started) hooks.end();
  };

  const iterator: LiveIterator<T> = {
    [Symbol.asyncIterator]() {
      return this;
    },
    [LISTEN](taker) {
      if (started || ended) return false;
      listener = taker;
      started = true;
      hooks.start();
      if (held) {
        const { value } = held;
        held = undefined;
        taker.next(value);
      }
      return true;
    },
    next() {
      if (!started && !ended) {
        started = true;
        hooks.start();
      }
      if (held) {
        const { value } = held;
        held = undefined;
        return Promise.resolve({ done: false, value });
      }
      if (ended) {
        const error = failure;
        failure = undefined;
        return error ? Promise.reject(error) : Promise.resolve(DONE);
      }
      return new Promise((resolve, reject) => {
        waiting = { resolve, reject };
      });
    },
    return() {
      held = undefined;
      failure = undefined;
      finish();
      const consumer = waiting;
      waiting = undefined;
      consumer?.resolve(DONE);
      return Promise.resolve(DONE);
    },
  };

  return {
    iterator,
    push(value) {
      if (ended) return;
      if (listener) return listener.next(value);
      const consumer = waiting;
      if (consumer) {
        waiting = undefined;
        consumer.resolve({ done: false, value });
      } else held = { value };
    },
    end(error) {
      if (ended) return;
      if (listener) {
        finish();
        return listener.end(error);
      }
      failure = error;
      finish();
      const consumer = waiting;
      if (!consumer) return;
      waiting = undefined;
      failure = undefined;
      if (error) consumer.reject(error);
      else consumer.resolve(DONE);
    },
  };
}
