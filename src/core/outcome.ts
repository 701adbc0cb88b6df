import type { Settings } from '../config';
import type { Failure } from '../errors';
import type { Caller } from './authenticate';

/**
 * What a function's own steps achieved, in the core's words: the edge
 * (src/http/) decides the status code. `created` made something new in Twilio,
 * `done` read or changed something, `acknowledged` took note of a
 * notification and has nothing to say back.
 */
export type Effect = 'created' | 'done' | 'acknowledged';

export interface HandlerResult {
  effect: Effect;
  /** The answer's body (none for `acknowledged`). */
  body?: object;
  /** True when this repeats the result of an earlier request with the same Idempotency-Key. */
  replayed?: boolean;
  /** What the log line says happened: 'transferred', 'replayed', 'listed', ... */
  happened: string;
}

/** What the engine hands back for one request: the result or the failure, and what its log line needs. */
export interface Outcome {
  requestId: string;
  result: { kind: 'succeeded'; value: HandlerResult } | { kind: 'failed'; failure: Failure };
  /** Undefined when the settings could not be read (the edge falls back to the default origin). */
  settings: Settings | undefined;
  callerKind: Caller['kind'] | null;
  upstreamAttempts: number;
  durationMs: number;
  /** What the calls to Twilio left worth logging (a list cut short). */
  notes: string[];
  /** Only for an internal failure: what was thrown, with its stack (for the log, never the answer). */
  defect?: string;
}
