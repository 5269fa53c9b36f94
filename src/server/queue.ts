// Bounded inference admission: at most `concurrency` jobs run, at most `queue` wait; beyond that
// the caller gets 503 + Retry-After at once instead of piling up memory and latency.
import { HttpError } from './http-error.js';

export interface QueueOptions {
  concurrency: number;
  queue: number;
  /** Budget per job, waiting included. */
  timeoutMs: number;
}

interface Waiter {
  deadline: number;
  start: () => void;
  expire: () => void;
}

export class InferenceQueue {
  private running = 0;
  private readonly waiting: Waiter[] = [];
  /** Smoothed job time, for Retry-After. */
  private avgMs = 1000;

  constructor(readonly o: QueueOptions) {}

  get active(): number {
    return this.running;
  }
  get queued(): number {
    return this.waiting.length;
  }

  /** Seconds until a slot is likely free. */
  retryAfter(): number {
    return Math.max(1, Math.ceil((this.avgMs * (this.running + this.waiting.length)) / this.o.concurrency / 1000));
  }

  private overloaded(message: string): HttpError {
    return new HttpError(503, 'overloaded', message, { 'retry-after': String(this.retryAfter()) });
  }

  async run<T>(job: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.o.timeoutMs;
    if (this.running < this.o.concurrency) this.running++;
    else if (this.waiting.length >= this.o.queue) throw this.overloaded(`server busy: ${this.running} running, ${this.waiting.length} queued`);
    else await this.wait(deadline);
    const t0 = performance.now();
    // The slot is freed when the job really ends, not at the timeout: a timed-out inference still uses the CPU.
    const work = job().finally(() => this.release(performance.now() - t0));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new HttpError(504, 'timeout', `inference did not finish within ${this.o.timeoutMs} ms`)), Math.max(0, deadline - Date.now()));
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves once a finishing job hands its slot over; rejects with 503 at the deadline. */
  private wait(deadline: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        deadline,
        start: () => {
          clearTimeout(timer);
          resolve();
        },
        expire: () => {
          clearTimeout(timer);
          const i = this.waiting.indexOf(w);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(this.overloaded(`waited ${this.o.timeoutMs} ms in the queue`));
        },
      };
      const timer = setTimeout(w.expire, Math.max(0, deadline - Date.now()));
      this.waiting.push(w);
    });
  }

  private release(ms: number): void {
    this.avgMs = 0.8 * this.avgMs + 0.2 * ms;
    // A long synchronous job can delay the waiters' timers: expired ones must not get the slot.
    for (let next = this.waiting.shift(); next; next = this.waiting.shift()) {
      if (Date.now() < next.deadline) {
        next.start(); // hand the slot over: `running` stays the same
        return;
      }
      next.expire();
    }
    this.running--;
  }
}
