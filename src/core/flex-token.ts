import { sha256Hex } from './sha256';
import { UnauthenticatedError, UpstreamUnavailableError } from '../errors';
import type { FlexTokenIdentity } from '../twilio/tokens';
import { TtlCache } from './ttl-cache';

const MAX_TOKEN_LENGTH = 16384;
/** A Flex token is a compact JWE: five base64url segments (the encrypted key may be empty). */
const COMPACT_JWE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const CACHE_MAX_ENTRIES = 1000;
/** A rejected token is refused again without asking Twilio for this long: long enough to blunt a flood, short enough to never matter to a real user. */
export const REJECTION_MEMORY_MS = 5000;
/** What one instance sends to the validation endpoint at most, per second; past it, callers are told to retry. */
export const VALIDATIONS_PER_SECOND = 20;

/** What one caller (one source) may spend of the per-second budget: the rest stays for everyone else. */
export const SOURCE_SHARE = 0.25;

/** Times of recent calls, at most `limit` in any one-second window. */
class Window {
  readonly recent: number[] = [];

  constructor(private readonly limit: number) {}

  hasRoom(nowMs: number): boolean {
    while (this.recent.length > 0 && (this.recent[0] as number) <= nowMs - 1000) this.recent.shift();
    return this.recent.length < this.limit;
  }
}

/**
 * At most `limit` calls in any one-second window, and at most a share of them
 * for any one source, so that one flooding caller cannot spend everyone's
 * budget. A call without a known source counts against the whole only.
 */
class RateBound {
  private readonly all: Window;
  private readonly bySource = new Map<string, Window>();
  private readonly perSource: number;

  constructor(
    private readonly limit: number,
    private readonly now: () => number,
  ) {
    this.all = new Window(limit);
    this.perSource = Math.max(1, Math.floor(limit * SOURCE_SHARE));
  }

  tryTake(source: string | undefined): boolean {
    const nowMs = this.now();
    if (!this.all.hasRoom(nowMs)) return false;
    const own = source === undefined ? undefined : this.sourceWindow(source, nowMs);
    if (own !== undefined && !own.hasRoom(nowMs)) return false;
    this.all.recent.push(nowMs);
    own?.recent.push(nowMs);
    return true;
  }

  private sourceWindow(source: string, nowMs: number): Window {
    // Sources idle for a second hold nothing: forget them, so the map stays as small as the current traffic.
    if (this.bySource.size > 1000) {
      for (const [key, window] of this.bySource) if (window.hasRoom(nowMs) && window.recent.length === 0) this.bySource.delete(key);
    }
    let window = this.bySource.get(source);
    if (window === undefined) {
      window = new Window(this.perSource);
      this.bySource.set(source, window);
    }
    return window;
  }
}

export interface FlexTokenVerifierOptions {
  now?: () => number;
  validationsPerSecond?: number;
}

/**
 * Validates Flex tokens at the cost of as few calls to Twilio as possible, so
 * that nobody can turn a flood of requests into a flood of validations (Twilio
 * rate-limits those per account, which would refuse every agent's transfers):
 * impossible tokens are refused locally, successes are remembered (never past
 * the token's expiry), rejections for a few seconds, concurrent validations of
 * one token share one call, and one instance sends at most a bounded number
 * per second. One verifier per function instance.
 */
export class FlexTokenVerifier {
  private readonly accepted: TtlCache<FlexTokenIdentity>;
  private readonly rejected: TtlCache<true>;
  private readonly inFlight = new Map<string, Promise<FlexTokenIdentity>>();
  private readonly rateBound: RateBound;
  private readonly now: () => number;

  constructor(options: FlexTokenVerifierOptions = {}) {
    this.now = options.now ?? Date.now;
    this.accepted = new TtlCache(CACHE_MAX_ENTRIES, this.now);
    this.rejected = new TtlCache(CACHE_MAX_ENTRIES, this.now);
    this.rateBound = new RateBound(options.validationsPerSecond ?? VALIDATIONS_PER_SECOND, this.now);
  }

  async verify(
    token: string,
    options: {
      cacheSeconds: number;
      validate: (token: string) => Promise<FlexTokenIdentity>;
      /** Who is asking, as far as the request tells (see authenticate's sourceOf); its share of the budget is bounded. */
      source?: string | undefined;
    },
  ): Promise<FlexTokenIdentity> {
    if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWE.test(token)) throw new UnauthenticatedError('the Flex token is not a compact JWE');
    const key = sha256Hex(token);
    const known = options.cacheSeconds > 0 ? this.accepted.get(key) : undefined;
    if (known) return known;
    if (this.rejected.get(key)) throw new UnauthenticatedError('the Flex token was rejected moments ago');

    const pending = this.inFlight.get(key);
    if (pending) return pending;
    if (!this.rateBound.tryTake(options.source))
      throw new UpstreamUnavailableError('token-validate', { retryAfterSeconds: 1, tried: 'busy' });

    const validation = this.validateOnce(key, token, options);
    this.inFlight.set(key, validation);
    try {
      return await validation;
    } finally {
      this.inFlight.delete(key);
    }
  }

  private async validateOnce(
    key: string,
    token: string,
    options: { cacheSeconds: number; validate: (token: string) => Promise<FlexTokenIdentity> },
  ): Promise<FlexTokenIdentity> {
    try {
      const identity = await options.validate(token);
      if (options.cacheSeconds > 0 && identity.expiresAtMs !== undefined) {
        this.accepted.set(key, identity, Math.min(this.now() + options.cacheSeconds * 1000, identity.expiresAtMs));
      }
      return identity;
    } catch (thrown) {
      if (thrown instanceof UnauthenticatedError) this.rejected.set(key, true, this.now() + REJECTION_MEMORY_MS);
      throw thrown;
    }
  }
}
