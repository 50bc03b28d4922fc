import { describe, expect, it } from 'vitest';

/**
 * patches/postgres+3.4.9.patch, queue.js: postgres.js keeps its pool's connections in queues that
 * shift by leaving a spent slot at the front, reset only when the queue empties. The open
 * connections' queue never empties while a spare connection stays idle, so it grew by one slot
 * per query for good, and every query's move to the busy queue scanned all of it (indexOf):
 * CPU per query grew with uptime (about 10 us after a few seconds of the verify bench). Both
 * builds are checked: the ESM one the portal loads, and the CommonJS one.
 */
type QueueOf<T> = {
  readonly length: number;
  push(x: T): T;
  shift(): T | undefined;
  remove(x: T): T | null;
};
const builds = {
  esm: async () => (await import(`${'../node_modules/postgres/src/queue.js'}`)).default,
  cjs: async () => (await import(`${'../node_modules/postgres/cjs/src/queue.js'}`)).default,
} as Record<string, () => Promise<<T>(initial?: T[]) => QueueOf<T>>>;

/** An array that records how long it is whenever the queue searches it. */
class Watched<T> extends Array<T> {
  static longest = 0;
  override indexOf(x: T, from?: number): number {
    Watched.longest = Math.max(Watched.longest, this.length - (from ?? 0));
    return super.indexOf(x, from);
  }
}

describe.each(Object.keys(builds))('postgres.js Queue (%s build)', (build) => {
  it('stays small when it never empties, as the pool uses it', async () => {
    const Queue = await builds[build]!();
    // Three idle connections; each query takes the first and a finished one comes back.
    const open = Queue(Watched.from(['c1', 'c2', 'c3']));
    Watched.longest = 0;
    for (let i = 0; i < 20_000; i++) {
      const c = open.shift()!;
      expect(open.remove(c)).toBeNull(); // the pool's move(): it is no longer in `open`
      open.push(c);
    }
    expect(open.length).toBe(3);
    // Unpatched: 20,000 spent slots searched on every query by the end.
    expect(Watched.longest).toBeLessThan(200);
  });

  it('keeps first-in first-out order and removal, like a plain array', async () => {
    const Queue = await builds[build]!();
    const queue = Queue<number>();
    const model: number[] = [];
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 20_000; i++) {
      const roll = random();
      if (roll < 0.5) {
        model.push(i);
        queue.push(i);
      } else if (roll < 0.85) {
        expect(queue.shift()).toBe(model.shift());
      } else {
        const x = model[Math.floor(random() * (model.length + 1))] ?? -1;
        const at = model.indexOf(x);
        if (at >= 0) model.splice(at, 1);
        expect(queue.remove(x)).toBe(at >= 0 ? x : null);
      }
      expect(queue.length).toBe(model.length);
    }
  });
});
