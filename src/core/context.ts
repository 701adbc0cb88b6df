import type { Environment, Settings } from '../config';
import type { IncomingRequest } from './request';
import type { HttpSender } from '../twilio/sender';
import type { TwilioTransport } from '../twilio/transport';
import type { Caller } from './authenticate';
import type { Deadline } from './deadline';
import type { FlexTokenVerifier } from './flex-token';
import type { InstanceMemory } from './instance-memory';

/** One structured log line per request. It never holds a token, a password or a request body. */
export interface RequestLogEntry {
  requestId: string;
  function: string;
  status: number;
  outcome: string;
  callerKind: Caller['kind'] | null;
  upstreamAttempts: number;
  durationMs: number;
  replayed?: boolean;
  /** Why a request failed, in words that never hold a credential (for 401s, the reason the caller is not told). */
  reason?: string;
  /** What the calls to Twilio left worth knowing, e.g. a list cut short after 50 pages. */
  notes?: string[];
  /** Only for `internal_error`: what was thrown, with its stack (never in the answer). */
  defect?: string;
}

/** What the core needs from the outside world; the adapter provides the real ones, tests their own. */
export interface Dependencies {
  /** The settings as the environment holds them (checked by config.ts). */
  env: Environment;
  /** A new HTTP sender for each request: the bottom of the one way out to Twilio. */
  newSender: () => HttpSender;
  verifier: FlexTokenVerifier;
  /** What this function instance remembers between requests. */
  memory: InstanceMemory;
  now: () => number;
  random: () => number;
  newRequestId: () => string;
  log: (entry: RequestLogEntry) => void;
}

/** What every step of one request may use. */
export interface RequestContext {
  incoming: IncomingRequest;
  settings: Settings;
  deadline: Deadline;
  /** The one way out to Twilio for this request's calls. */
  transport: TwilioTransport;
  memory: InstanceMemory;
  now: () => number;
}

/** The context once the caller is known: what a function's own steps get. */
export interface AuthenticatedContext extends RequestContext {
  caller: Caller;
}
