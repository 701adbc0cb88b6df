import { randomUUID } from 'node:crypto';
import type { Context, ServerlessCallback } from '@twilio-labs/serverless-runtime-types/types';
import { environmentOf } from '../config';
import type { Dependencies } from '../core/context';
import { type CoreHandler, runRequest } from '../core/engine';
import { FlexTokenVerifier } from '../core/flex-token';
import { finalResponse } from '../http/answer';
import { readIncomingRequest } from '../http/incoming';
import { helperLibrarySender } from '../twilio/sender';

export type RuntimeHandler = (context: Context, event: Record<string, unknown>, callback: ServerlessCallback) => void;

/** One per function instance: token validations are remembered and bounded across the requests it serves. */
const instanceVerifier = new FlexTokenVerifier();

/** The real world: Twilio through the helper library, the clock, stdout. */
export function runtimeDependencies(env: Dependencies['env']): Dependencies {
  return {
    env,
    newSender: helperLibrarySender,
    verifier: instanceVerifier,
    now: Date.now,
    random: Math.random,
    newRequestId: randomUUID,
    log: (entry) => console.log(JSON.stringify(entry)),
  };
}

/**
 * The only code that knows the Twilio runtime: it turns (context, event) into
 * the core's request and dependencies, and the core's outcome into a
 * Twilio.Response.
 */
export function adaptToRuntime(functionName: string, handler: CoreHandler): RuntimeHandler {
  return (context, event, callback) => {
    // The runtime's context carries the environment's variables as its own members; only the setting names are read.
    const env = environmentOf(context as unknown as Record<string, unknown>);
    const incoming = readIncomingRequest({ event, domainName: context.DOMAIN_NAME, path: context.PATH });
    runRequest({ functionName, incoming, deps: runtimeDependencies(env), handler })
      .then((outcome) => {
        const final = finalResponse({ outcome, incoming, env });
        const response = new Twilio.Response();
        response.setStatusCode(final.status);
        for (const [name, value] of Object.entries(final.headers)) response.appendHeader(name, value);
        response.setBody(final.body);
        callback(null, response);
      })
      // Only if the runtime's own Response could not be built: let the runtime report it rather than never answering.
      .catch((thrown: unknown) => callback(thrown instanceof Error ? thrown : new Error(String(thrown))));
  };
}
