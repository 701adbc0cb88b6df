import type * as TwilioModule from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient';
import type Response from 'twilio/lib/http/response';
import type { InboundAnswer, OutboundRequest } from './sender';

let loaded: typeof TwilioModule | undefined;

/** The `twilio` helper library, loaded on first use: requests refused before any Twilio call never pay the ~200 ms it takes. */
export function helperLibrary(): typeof TwilioModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loaded ??= require('twilio') as typeof TwilioModule;
  return loaded;
}

/** What the helper library hands its HTTP client, in the shape the senders take (without this transport's own timeout and signal). */
export type HelperLibraryRequest = Omit<OutboundRequest, 'timeoutMs' | 'signal'>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * The helper library's HTTP client for one call, sending through `send`: a
 * subclass of its RequestClient, the type its `httpClient` option names (the
 * library calls only request(); the client's own agent is never used).
 */
export function httpClientFor(send: (request: HelperLibraryRequest) => Promise<InboundAnswer>): RequestClient {
  return new (class extends helperLibrary().RequestClient {
    override async request<TData>(options: RequestClient.RequestOptions<TData>): Promise<Response<TData>> {
      const answer = await send({
        ...options,
        headers: { ...options.headers },
        params: isRecord(options.params) ? options.params : undefined,
        data: isRecord(options.data) ? options.data : undefined,
      });
      // Twilio's JSON, whatever the caller declared it to be: the library's own client hands it on the same way.
      const body = answer.body as TData;
      return { statusCode: answer.statusCode, headers: answer.headers, body };
    }
  })();
}
