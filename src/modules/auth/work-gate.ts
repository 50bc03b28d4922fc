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
    private limits: WorkGateLimits,
    private readonly busyMessage = 'Too much work in progress; retry shortly',
  ) {}

  configure(limits: WorkGateLimits): void {
    this.limits = limits;
  }

  get stats() {
    return { running: this.running, waiting: this.waiting.length };
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limits.concurrency) {
      if (this.waiting.length >= this.limits.queue) {
        throw new ServiceUnavailableError(this.busyMessage, 1);
      }
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
