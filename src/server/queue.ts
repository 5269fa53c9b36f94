// Bounded inference admission: at most `concurrency` jobs run, at most `queue` wait per key (model);
// beyond that the caller gets 503 + Retry-After at once instead of piling up memory and latency.
// Waiters are grouped by key and a freed slot goes to the keys in turn (round-robin), so one
// busy model cannot starve the others.
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
  /** Waiters per key, in arrival order; a key's list is dropped when it empties. */
  private readonly waiting = new Map<string, Waiter[]>();
  /** Keys in the order they next get a slot. */
  private turn: string[] = [];
  private waitingCount = 0;
  /** Smoothed job time, for Retry-After. */
  private avgMs = 1000;

  constructor(readonly o: QueueOptions) {}

  get active(): number {
    return this.running;
  }
  get queued(): number {
    return this.waitingCount;
  }

  /** Waiters of one key. */
  queuedFor(key: string): number {
    return this.waiting.get(key)?.length ?? 0;
  }

  /** Seconds until a slot is likely free. */
  retryAfter(): number {
    return Math.max(1, Math.ceil((this.avgMs * (this.running + this.waitingCount)) / this.o.concurrency / 1000));
  }

  private overloaded(message: string): HttpError {
    return new HttpError(503, 'overloaded', message, { 'retry-after': String(this.retryAfter()) });
  }

  /** Run `job` in a slot; `key` (the model's name) groups waiters for the round-robin. */
  async run<T>(job: () => Promise<T>, key = ''): Promise<T> {
    const deadline = Date.now() + this.o.timeoutMs;
    if (this.running < this.o.concurrency) this.running++;
    else if (this.queuedFor(key) >= this.o.queue)
      throw this.overloaded(`server busy: ${this.running} running, ${this.queuedFor(key)} queued${key ? ` for ${key}` : ''}`);
    else await this.wait(deadline, key);
    const t0 = performance.now();
    // The slot is freed when the job really ends, not at the timeout: a timed-out inference still uses the CPU.
    const work = job().finally(() => this.release(performance.now() - t0));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new HttpError(504, 'timeout', `inference did not finish within ${this.o.timeoutMs} ms`)),
        Math.max(0, deadline - Date.now()),
      );
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves once a finishing job hands its slot over; rejects with 503 at the deadline. */
  private wait(deadline: number, key: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        deadline,
        start: () => {
          clearTimeout(timer);
          resolve();
        },
        expire: () => {
          clearTimeout(timer);
          this.remove(key, w);
          reject(this.overloaded(`waited ${this.o.timeoutMs} ms in the queue`));
        },
      };
      const timer = setTimeout(w.expire, Math.max(0, deadline - Date.now()));
      const list = this.waiting.get(key);
      if (list) list.push(w);
      else {
        this.waiting.set(key, [w]);
        this.turn.push(key);
      }
      this.waitingCount++;
    });
  }

  private remove(key: string, w: Waiter): void {
    const list = this.waiting.get(key);
    const i = list ? list.indexOf(w) : -1;
    if (!list || i < 0) return;
    list.splice(i, 1);
    this.waitingCount--;
    if (list.length === 0) {
      this.waiting.delete(key);
      this.turn = this.turn.filter((k) => k !== key);
    }
  }

  /** The oldest waiter of the key whose turn it is; that key moves to the back of the turn order. */
  private next(): Waiter | undefined {
    const key = this.turn.shift();
    if (key === undefined) return undefined;
    const list = this.waiting.get(key)!;
    const w = list.shift()!;
    this.waitingCount--;
    if (list.length) this.turn.push(key);
    else this.waiting.delete(key);
    return w;
  }

  private release(ms: number): void {
    this.avgMs = 0.8 * this.avgMs + 0.2 * ms;
    // A long synchronous job can delay the waiters' timers: expired ones must not get the slot.
    for (let next = this.next(); next; next = this.next()) {
      if (Date.now() < next.deadline) {
        next.start(); // hand the slot over: `running` stays the same
        return;
      }
      next.expire();
    }
    this.running--;
  }
}
