import type { TwilioOperation } from '../../src/twilio/operations';
/** The shapes shared by the stand-in's modules and its users. */

/** One request as Twilio would receive it. */
export interface StandinRequest {
  method: string;
  /** Absolute, with the real Twilio host and the query, e.g. https://flex-api.twilio.com/v1/Interactions/KD…/Channels/UO…/Invites?PageSize=50 */
  url: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: string;
}

/** One answer as Twilio would send it. Header names are lower-case. */
export interface StandinResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Twilio's operations, in the functions' own vocabulary (src/twilio/operations.ts). */
export type Route = TwilioOperation;

/**
 * One scripted answer; scripted answers of a route are used in order before the default behaviour resumes.
 *
 * - `{ status, body?, headers?, delayMs? }`: answer this (after the delay); the body defaults to a Twilio error of that status.
 * - `{ delayMs }`: wait, then answer normally.
 * - `{ hang: true }`: never answer. In-process the promise rejects with code `ECONNABORTED` once the caller's signal aborts;
 *   over HTTP the request stays open until the client gives up.
 * - `{ reset: true }`: the connection drops after the request was received (Twilio may have acted).
 *   In-process: rejects with code `ECONNRESET`; over HTTP the socket is destroyed.
 * - `{ refuse: true }`: the request never reaches Twilio. In-process: rejects with code `ECONNREFUSED`, at once, without latency.
 *   Over HTTP a connection already accepted cannot be refused, so the socket is destroyed before the body is read: the client
 *   sees a reset (`ECONNRESET` / "socket hang up"). For a true `ECONNREFUSED` over HTTP, `stop()` the stand-in.
 *   A refused request is still recorded (so attempts can be counted), with `fault` set and without its body.
 */
export type Fault =
  | { status: number; body?: unknown; headers?: Record<string, string>; delayMs?: number }
  | { delayMs: number }
  | { hang: true }
  | { reset: true }
  | { refuse: true };

export interface RecordedRequest {
  route: Route | 'unknown';
  /** The Twilio host the request was meant for, e.g. flex-api.twilio.com. */
  host: string;
  method: string;
  /** Path and query. */
  path: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  rawBody: string;
  form: Record<string, string>;
  /** The parsed body when it was sent as application/json. */
  json: unknown;
  /** Parsed `Routing` form field of an invite. */
  routing?: { properties: Record<string, unknown> };
  /** Wall-clock arrival time (Date.now(), not the stand-in's `now`), for measuring real delays such as retry backoff. */
  at: number;
  /** Which TCP connection carried the request, numbered in order of arrival; 0 for in-process requests. */
  connection: number;
  /** The scripted fault that answered this request, if any. */
  fault?: Fault;
}

export interface TokenGrant {
  worker_sid?: string;
  roles?: string[];
  /** ISO date; default one hour from the stand-in's `now`. */
  expiration?: string;
  identity?: string;
}

export interface Participant {
  sid: string;
  /** 'agent' (default), 'customer', 'supervisor', 'external', 'unknown'. */
  type?: string;
  routing_properties?: Record<string, unknown> | null;
}

/** A participant as the stand-in holds it: what Twilio lists, plus the status set through the API (Twilio does not list it). */
export interface ParticipantState {
  sid: string;
  type: string;
  routing_properties: Record<string, unknown> | null;
  /** `active` until an update sets `wrapup` or `closed`. */
  status: 'active' | 'wrapup' | 'closed';
}

export type TaskAssignmentStatus = 'pending' | 'reserved' | 'assigned' | 'wrapping' | 'completed' | 'canceled';

/** TaskRouter's reservation statuses (those the stand-in reaches). */
export type ReservationStatus = 'pending' | 'accepted' | 'rejected' | 'timeout' | 'canceled' | 'completed';

/** One POST of a TaskRouter event to a workspace's EventCallbackUrl, as the stand-in is about to send it. */
export interface EventDeliveryRequest {
  url: string;
  /** The form fields, as TaskRouter posts them (form-encoded on the wire). */
  form: Record<string, string>;
  /** Lower-case names: content-type, x-twilio-signature, i-twilio-idempotency-token, user-agent. */
  headers: Record<string, string>;
}

/** What the receiver answered; a thrown error counts as a failed delivery (no answer). */
export type EventDelivery = (request: EventDeliveryRequest) => Promise<{ status: number }>;

/** One delivery attempt of one event, in the order the attempts finished. */
export interface DeliveredEvent {
  eventType: string;
  taskSid: string | undefined;
  reservationSid: string | undefined;
  workerSid: string | undefined;
  url: string;
  /** The receiver's status, or null when the delivery failed without an answer (`error` says why). */
  status: number | null;
  error?: string;
  /** 1 for the first attempt, 2 for the retry. */
  attempt: number;
  form: Record<string, string>;
}

/** The stand-in's clock, in epoch milliseconds. */
export type Clock = () => number;
