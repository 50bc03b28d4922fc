import { describe, expect, it } from 'vitest';
import { createLiveStream, isLiveStream, listenLive } from '../src/lib/live-stream.ts';

/** The feed's per-subscriber stream (src/lib/live-stream.ts): no database, no sockets. */
function stream() {
  const calls: string[] = [];
  const s = createLiveStream<number>({
    start: () => calls.push('start'),
    end: () => calls.push('end'),
  });
  return { ...s, calls };
}

describe('live stream', () => {
  it('starts at the first read, hands a waiting reader the value, and keeps only the latest', async () => {
    const s = stream();
    s.push(1); // before start: the feed has not registered it, but nothing breaks
    expect(s.calls).toEqual([]);
    const first = s.iterator.next();
    expect(s.calls).toEqual(['start']);
    expect(await first).toEqual({ done: false, value: 1 });
    const waiting = s.iterator.next();
    s.push(2);
    expect(await waiting).toEqual({ done: false, value: 2 });
    s.push(3);
    s.push(4); // a reader behind gets the newest snapshot, not a backlog
    expect(await s.iterator.next()).toEqual({ done: false, value: 4 });
  });

  it('ends with an error after the value it still holds, once', async () => {
    const s = stream();
    await Promise.all([s.iterator.next(), s.push(1)]);
    s.push(2);
    s.end(new Error('expired'));
    s.end(new Error('again'));
    s.push(3);
    expect(await s.iterator.next()).toEqual({ done: false, value: 2 });
    await expect(s.iterator.next()).rejects.toThrow('expired');
    expect(await s.iterator.next()).toEqual({ done: true, value: undefined });
    expect(s.calls).toEqual(['start', 'end']);
  });

  it("rejects a waiting reader at once, and the reader's return() ends it for the feed", async () => {
    const a = stream();
    const pending = a.iterator.next();
    a.end(new Error('gone'));
    await expect(pending).rejects.toThrow('gone');

    const b = stream();
    const waiting = b.iterator.next();
    expect(await b.iterator.return!()).toEqual({ done: true, value: undefined });
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(b.calls).toEqual(['start', 'end']);
    b.push(1);
    expect(await b.iterator.next()).toEqual({ done: true, value: undefined });

    const never = stream();
    await never.iterator.return!(); // never read: never registered, so nothing to end
    expect(never.calls).toEqual([]);
  });

  it('hands each value to a listener inside push, from the one it held, and ends it once', async () => {
    const s = stream();
    s.push(1); // held before anyone listens
    const heard: unknown[] = [];
    const listener = {
      next: (v: number) => heard.push(v),
      end: (e?: Error) => heard.push(`end ${e?.message}`),
    };
    expect(isLiveStream(s.iterator)).toBe(true);
    expect(listenLive(s.iterator, listener)).toBe(true);
    expect(s.calls).toEqual(['start']);
    expect(heard).toEqual([1]);
    s.push(2);
    s.push(3);
    expect(heard).toEqual([1, 2, 3]); // synchronously, every one: no promise between
    s.end(new Error('expired'));
    s.end(new Error('again'));
    s.push(4);
    expect(heard).toEqual([1, 2, 3, 'end expired']);
    expect(s.calls).toEqual(['start', 'end']);
  });

  it('listens only before the first read, and return() still ends a listened stream', async () => {
    const read = stream();
    void read.iterator.next();
    expect(listenLive(read.iterator, { next() {}, end() {} })).toBe(false);
    const listened = stream();
    expect(listenLive(listened.iterator, { next() {}, end() {} })).toBe(true);
    expect(listenLive(listened.iterator, { next() {}, end() {} })).toBe(false);
    await listened.iterator.return!();
    expect(listened.calls).toEqual(['start', 'end']);
    const plain = (async function* () {})();
    expect(isLiveStream(plain)).toBe(false);
    expect(listenLive(plain, { next() {}, end() {} })).toBe(false);
  });
});
