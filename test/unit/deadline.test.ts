import { Deadline, REQUEST_BUDGET_MS, withTimeout } from '../../src/core/deadline';
import { UpstreamTimeoutError } from '../../src/errors';

describe('REQUEST_BUDGET_MS', () => {
  test('leaves room to answer within 9 seconds', () => {
    expect(REQUEST_BUDGET_MS).toBeGreaterThan(0);
    expect(REQUEST_BUDGET_MS).toBeLessThan(9000);
  });
});

describe('Deadline', () => {
  function clock(startMs = 50_000) {
    const state = { nowMs: startMs };
    return { state, now: () => state.nowMs };
  }

  test('counts down from its budget', () => {
    const { state, now } = clock();
    const deadline = Deadline.after(7500, now);
    expect(deadline.remainingMs()).toBe(7500);
    state.nowMs += 2500;
    expect(deadline.remainingMs()).toBe(5000);
  });

  test('expires exactly at the budget and never goes negative', () => {
    const { state, now } = clock();
    const deadline = Deadline.after(1000, now);
    state.nowMs += 999;
    expect(deadline.remainingMs()).toBe(1);
    state.nowMs += 1;
    expect(deadline.remainingMs()).toBe(0);
    state.nowMs += 5000;
    expect(deadline.remainingMs()).toBe(0);
  });

  test('the budget starts when the deadline is created', () => {
    const { state, now } = clock();
    state.nowMs = 123_456;
    expect(Deadline.after(100, now).expiresAtMs).toBe(123_556);
  });
});

describe('withTimeout', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  test('passes on the result of work that finishes in time', async () => {
    const work = new Promise<string>((resolve) => setTimeout(() => resolve('invite created'), 100));
    const onTimeout = jest.fn(() => new UpstreamTimeoutError('invite-create'));
    const guarded = withTimeout(work, 1000, onTimeout);
    await jest.advanceTimersByTimeAsync(100);
    await expect(guarded).resolves.toBe('invite created');
    await jest.advanceTimersByTimeAsync(2000);
    expect(onTimeout).not.toHaveBeenCalled();
  });

  test('passes on the failure of work that fails in time', async () => {
    const failure = new Error('Twilio said 404');
    const guarded = withTimeout(Promise.reject(failure), 1000, () => new UpstreamTimeoutError('invite-create'));
    await expect(guarded).rejects.toBe(failure);
  });

  test('rejects with the timeout error once the time is up, not before', async () => {
    const timeoutError = new UpstreamTimeoutError('invite-create');
    const guarded = withTimeout(new Promise<never>(() => undefined), 1000, () => timeoutError);
    let settled: unknown = 'pending';
    guarded.then(
      (value) => (settled = value),
      (error: unknown) => (settled = error),
    );
    await jest.advanceTimersByTimeAsync(999);
    expect(settled).toBe('pending');
    await jest.advanceTimersByTimeAsync(1);
    expect(settled).toBe(timeoutError);
  });

  test('a budget already spent (0 or negative) times out at once', async () => {
    for (const ms of [0, -50]) {
      const guarded = withTimeout(new Promise<never>(() => undefined), ms, () => new UpstreamTimeoutError('invite-create'));
      const outcome = expect(guarded).rejects.toBeInstanceOf(UpstreamTimeoutError);
      await jest.advanceTimersByTimeAsync(0);
      await outcome;
    }
  });

  test('leaves no timer behind once the work has settled', async () => {
    const guarded = withTimeout(Promise.resolve('done'), 5000, () => new UpstreamTimeoutError('invite-create'));
    await expect(guarded).resolves.toBe('done');
    expect(jest.getTimerCount()).toBe(0);
  });
});
