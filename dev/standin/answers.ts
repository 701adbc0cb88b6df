/** Building Twilio-shaped answers and the network failures the stand-in can simulate. */
import type { StandinResponse } from './types';

export interface TwilioErrorBody {
  code: number;
  message: string;
  more_info: string;
  status: number;
}

/** The generic Twilio error body for a status, as the stand-in answers scripted faults. */
export function twilioError(status: number): TwilioErrorBody {
  const code = status === 404 ? 20404 : status === 429 ? 20429 : status === 409 ? 20409 : status >= 500 ? 20500 : 20001;
  return errorBody(status, code, status === 404 ? 'The requested resource was not found' : `Stand-in error ${status}`);
}

export function errorBody(status: number, code: number, message: string): TwilioErrorBody {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

export function jsonAnswer(status: number, body: unknown, headers: Record<string, string> = {}): StandinResponse {
  return { status, headers: { 'content-type': 'application/json', ...lowerCaseNames(headers) }, body: JSON.stringify(body) };
}

export function errorAnswer(status: number, code: number, message: string): StandinResponse {
  return jsonAnswer(status, errorBody(status, code, message));
}

export const notFound = (): StandinResponse => jsonAnswer(404, twilioError(404));

export const noContent = (): StandinResponse => ({ status: 204, headers: {}, body: '' });

/** A scripted answer: a string body goes out as is (as an HTML error page from a proxy would), anything else as JSON. */
export function scriptedAnswer(status: number, body: unknown, headers: Record<string, string> = {}): StandinResponse {
  if (typeof body === 'string') return { status, headers: { 'content-type': 'text/html', ...lowerCaseNames(headers) }, body };
  return jsonAnswer(status, body ?? twilioError(status), headers);
}

export function lowerCaseNames(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

/** Twilio's date format in JSON bodies: ISO 8601 in UTC, whole seconds. */
export const twilioDate = (epochMs: number): string => new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** If-Match holds when it names the current entity tag (quoted or bare, weak or strong) or is `*`; no If-Match always holds. */
export function preconditionHolds(ifMatch: string | undefined, currentTag: string): boolean {
  if (ifMatch === undefined) return true;
  const bare = (tag: string) =>
    tag
      .trim()
      .replace(/^W\//, '')
      .replace(/^"(.*)"$/, '$1');
  return ifMatch.split(',').some((tag) => tag.trim() === '*' || bare(tag) === currentTag);
}

export type StandinNetworkErrorCode = 'ECONNABORTED' | 'ECONNRESET' | 'ECONNREFUSED';

/** How an in-process request fails where an HTTP one would fail at the socket; `code` is Node's errno name. */
export class StandinNetworkError extends Error {
  override readonly name = 'StandinNetworkError';

  constructor(
    readonly code: StandinNetworkErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Resolves after `ms`, or rejects with ECONNABORTED when the signal aborts first. */
export function wait(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(aborted());
      return;
    }
    const timer = ms === Infinity ? undefined : setTimeout(done, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(aborted());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    function done() {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
  });
}

export const aborted = (): StandinNetworkError => new StandinNetworkError('ECONNABORTED', 'The request was aborted by the caller');
