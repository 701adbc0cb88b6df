import type { Context, ServerlessCallback } from '@twilio-labs/serverless-runtime-types/types';
import { environmentOf } from '../config';
import { FlexTokenVerifier } from '../core/flex-token';
import type { FunctionName } from '../registry';
import { buildDependencies } from './dependencies';
import { serveEvent } from './serve';

export type RuntimeHandler = (context: Context, event: Record<string, unknown>, callback: ServerlessCallback) => void;

/** One per function instance: token validations are remembered and bounded across the requests it serves. */
const instanceVerifier = new FlexTokenVerifier();

/** The only code that knows the Twilio runtime: (context, event) in, a Twilio.Response out. */
export function runtimeHandler(functionName: FunctionName): RuntimeHandler {
  return (context, event, callback) => {
    // The runtime's context carries the environment's variables as its own members; only the setting names are read.
    const env = environmentOf(context as unknown as Record<string, unknown>);
    const deps = buildDependencies(env, { verifier: instanceVerifier });
    serveEvent({ functionName, event, domainName: context.DOMAIN_NAME, path: context.PATH, deps })
      .then((answer) => {
        const response = new Twilio.Response();
        response.setStatusCode(answer.status);
        for (const [name, value] of Object.entries(answer.headers)) response.appendHeader(name, value);
        if (answer.body !== undefined) response.setBody(answer.body);
        callback(null, response);
      })
      // Only if the runtime's own Response could not be built: let the runtime report it rather than never answering.
      .catch((thrown: unknown) => callback(thrown instanceof Error ? thrown : new Error(String(thrown))));
  };
}
