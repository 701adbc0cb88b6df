/**
 * Twilio Functions and Studio stop waiting after 10 s. Each request gets one
 * budget, started when the handler is called, that every outbound call shares.
 */
export const REQUEST_BUDGET_MS = 7500;

export class Deadline {
  private constructor(
    readonly expiresAtMs: number,
    readonly nowMs: () => number,
  ) {}

  static after(budgetMs: number, now: () => number = Date.now): Deadline {
    return new Deadline(now() + budgetMs, now);
  }

  remainingMs(): number {
    return Math.max(0, this.expiresAtMs - this.nowMs());
  }
}

/** Settles with `onTimeout()`'s rejection if `work` has not settled within `ms`. */
export function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), Math.max(0, ms));
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
