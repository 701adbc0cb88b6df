import type { HttpMethod } from 'twilio/lib/interfaces';
import { helperLibrary } from './helper-library';

/** One HTTP request to Twilio, in the shape the helper library hands its pluggable `httpClient`. */
export interface OutboundRequest {
  /** Lower case, as the helper library names them. */
  method: HttpMethod;
  uri: string;
  username?: string;
  password?: string;
  headers: Record<string, string>;
  params?: Record<string, unknown>;
  data?: Record<string, unknown>;
  timeoutMs: number;
  signal: AbortSignal;
}

/** Twilio's answer: status, headers (lower-case names) and the body, parsed when it was JSON. */
export interface InboundAnswer {
  statusCode: number;
  headers: Record<string, unknown>;
  body: unknown;
}

/**
 * The bottom of the one way out to Twilio: sends one attempt, nothing more.
 * Rejects with an error whose `code` says how far the request got (ECONNREFUSED,
 * ECONNRESET, ETIMEDOUT...). Tests and the sandbox plug in a stand-in here.
 */
export interface HttpSender {
  send(request: OutboundRequest): Promise<InboundAnswer>;
  /** Releases any connection kept for this request's calls. */
  close(): void;
}

export function isJsonRequest(request: Pick<OutboundRequest, 'headers'>): boolean {
  return Object.entries(request.headers).some(([name, value]) => name.toLowerCase() === 'content-type' && /json/i.test(value));
}

/**
 * The helper library's own RequestClient, one per function request, with
 * keep-alive: the calls of one request share a connection instead of paying a
 * TCP and TLS handshake each, and closing it when the request answers means no
 * idle socket outlives it (a stale socket reused by a later invite would fail
 * ambiguously).
 */
export function helperLibrarySender(): HttpSender {
  const { RequestClient } = helperLibrary();
  const client = new RequestClient({ keepAlive: true });
  return {
    async send(request) {
      const { timeoutMs, signal, ...options } = request;
      if (isJsonRequest(request)) {
        // twilio 4.x's RequestClient form-encodes every body; IAM's token validation takes JSON, so this one call
        // uses the same client's axios instance (same agent, same connection) with the body serialized as JSON.
        const auth = options.username === undefined ? undefined : { username: options.username, password: options.password ?? '' };
        const response = await client.axios.request({
          method: options.method,
          url: options.uri,
          headers: { ...options.headers, Connection: 'keep-alive' },
          auth,
          data: JSON.stringify(options.data ?? {}),
          timeout: timeoutMs,
          signal,
          maxRedirects: 0,
          proxy: false,
          validateStatus: () => true,
        });
        return { statusCode: response.status, headers: response.headers as Record<string, unknown>, body: response.data };
      }
      // RequestClient takes no abort signal: its own timeout (the call's remaining time) ends a hung attempt.
      const answer = await client.request({ ...options, timeout: timeoutMs, forever: true });
      return { statusCode: answer.statusCode, headers: answer.headers, body: answer.body };
    },
    close: () => (client.axios.defaults.httpsAgent as { destroy?: () => void } | undefined)?.destroy?.(),
  };
}
