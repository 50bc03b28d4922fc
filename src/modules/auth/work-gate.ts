import { ServiceUnavailableError } from '../../lib/errors.ts';

export interface WorkGateLimits {
  /** Tasks running at once. */
  concurrency: number;
  /** Tasks waiting for a place; one more is refused at once. */
  queue: number;
}

/**
 * A semaphore with a bounded wait queue: at most `concurrency` tasks run, at most `queue` wait,
 * and any further one fails at once with ServiceUnavailableError ("retry shortly") instead of
 * piling up behind the others.
 */
export class WorkGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly limits: WorkGateLimits,
    private readonly busyMessage = 'Too much work in progress; retry shortly',
  ) {}

  get stats() {
    return { running: this.running, waiting: this.waiting.length };
  }

  /**
   * Whether a task started now would find a place. A hint for skipping the work that leads up
   * to the task (a flood is answered before it reaches the database); run() still decides.
   */
  hasRoom(): boolean {
    return this.running < this.limits.concurrency || this.waiting.length < this.limits.queue;
  }

  /** The error run() throws when there is no place: for a caller that checked hasRoom(). */
  busy(): ServiceUnavailableError {
    return new ServiceUnavailableError(this.busyMessage, 1);
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limits.concurrency) {
      if (this.waiting.length >= this.limits.queue) throw this.busy();
      // The place is handed over by the finishing task, so `running` never dips in between.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
