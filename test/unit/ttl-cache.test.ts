import { TtlCache } from '../../src/core/ttl-cache';

/** A cache with a clock the test moves by hand. */
function cacheWithClock(maxEntries = 10) {
  const clock = { nowMs: 1_000_000 };
  const cache = new TtlCache<string>(maxEntries, () => clock.nowMs);
  return { cache, clock };
}

describe('TtlCache: expiry', () => {
  test('an entry is returned until it expires', () => {
    const { cache, clock } = cacheWithClock();
    cache.set('token-hash', 'identity', clock.nowMs + 60_000);
    expect(cache.get('token-hash')).toBe('identity');
    clock.nowMs += 59_999;
    expect(cache.get('token-hash')).toBe('identity');
  });

  test('an entry is never returned at or after its expiry (e.g. the token’s expiration)', () => {
    const { cache, clock } = cacheWithClock();
    const expiresAtMs = clock.nowMs + 60_000;
    cache.set('token-hash', 'identity', expiresAtMs);
    clock.nowMs = expiresAtMs;
    expect(cache.get('token-hash')).toBeUndefined();
    clock.nowMs = expiresAtMs + 1;
    expect(cache.get('token-hash')).toBeUndefined();
  });

  test('an already expired value is not stored', () => {
    const { cache, clock } = cacheWithClock();
    cache.set('past', 'v', clock.nowMs - 1);
    cache.set('now', 'v', clock.nowMs);
    expect(cache.get('past')).toBeUndefined();
    expect(cache.get('now')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  test('setting a key again replaces its value and expiry', () => {
    const { cache, clock } = cacheWithClock();
    cache.set('k', 'old', clock.nowMs + 10);
    cache.set('k', 'new', clock.nowMs + 1000);
    clock.nowMs += 500;
    expect(cache.get('k')).toBe('new');
    expect(cache.size).toBe(1);
  });

  test('unknown keys are misses', () => {
    expect(cacheWithClock().cache.get('never-set')).toBeUndefined();
  });

  test('clear forgets everything', () => {
    const { cache, clock } = cacheWithClock();
    cache.set('a', '1', clock.nowMs + 1000);
    cache.set('b', '2', clock.nowMs + 1000);
    cache.clear();
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});

describe('TtlCache: bounded size', () => {
  test('never holds more than its maximum', () => {
    const { cache, clock } = cacheWithClock(3);
    for (let i = 0; i < 50; i += 1) {
      cache.set(`k${i}`, `v${i}`, clock.nowMs + 60_000);
      expect(cache.size).toBeLessThanOrEqual(3);
    }
    expect(cache.get('k49')).toBe('v49');
  });

  test('when full, the least recently used entry makes room', () => {
    const { cache, clock } = cacheWithClock(2);
    cache.set('a', '1', clock.nowMs + 60_000);
    cache.set('b', '2', clock.nowMs + 60_000);
    expect(cache.get('a')).toBe('1'); // a is now more recent than b
    cache.set('c', '3', clock.nowMs + 60_000);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe('1');
    expect(cache.get('c')).toBe('3');
  });
});
