/**
 * The fake transport: plugs the Twilio stand-in in at the bottom of the
 * functions' one way out to Twilio (src/twilio/sender.ts), in-process, so the
 * real helper library and all of the functions' code run unchanged and only
 * the socket is missing. Used by the in-process tests and the benchmark.
 */
import type { HttpSender, InboundAnswer, OutboundRequest } from '../src/twilio/sender';
import { isJsonRequest } from '../src/twilio/sender';
import type { TwilioStandin } from './twilio-standin';

/** Form-encodes like the helper library (qs with repeated keys for arrays). */
function formBody(data: Record<string, unknown>): string {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(data)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) form.append(name, String(item));
  }
  return form.toString();
}

function parsedLikeAxios(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function standinSender(standin: TwilioStandin): HttpSender {
  return {
    async send(request: OutboundRequest): Promise<InboundAnswer> {
      const url = new URL(request.uri);
      for (const [name, value] of Object.entries(request.params ?? {})) {
        if (value !== undefined) url.searchParams.append(name, String(value));
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
      if (request.username !== undefined) {
        headers.authorization = 'Basic ' + Buffer.from(`${request.username}:${request.password ?? ''}`).toString('base64');
      }
      const body = request.data === undefined ? '' : isJsonRequest(request) ? JSON.stringify(request.data) : formBody(request.data);
      const answer = await standin.handle({ method: request.method.toUpperCase(), url: url.href, headers, body }, request.signal);
      const answerHeaders: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(answer.headers)) answerHeaders[name.toLowerCase()] = value;
      return { statusCode: answer.status, headers: answerHeaders, body: parsedLikeAxios(answer.body) };
    },
    close: () => undefined,
  };
}
