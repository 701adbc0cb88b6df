import type { Context, ServerlessCallback } from '@twilio-labs/serverless-runtime-types/types';
import { type Environment, environmentOf } from '../config';
import { FlexTokenVerifier } from '../core/flex-token';
import { InstanceMemory } from '../core/instance-memory';
import type { FunctionName } from '../registry';
import { helperLibrary } from '../twilio/helper-library';
import { buildDependencies } from './dependencies';
import { serveEvent } from './serve';

/** The runtime's context carries the environment's variables as its own members (`Context<Env>`, as the runtime's types put it). */
export type RuntimeHandler = (context: Context<Environment>, event: Record<string, unknown>, callback: ServerlessCallback) => void;

// Loaded when the instance loads this file, before any request's deadline starts: a cold load can take seconds.
helperLibrary();

/** One per function instance: token validations are remembered and bounded across the requests it serves. */
const instanceVerifier = new FlexTokenVerifier();
const instanceMemory = new InstanceMemory();

/** The only code that knows the Twilio runtime: (context, event) in, a Twilio.Response out. */
export function runtimeHandler(functionName: FunctionName): RuntimeHandler {
  return (context, event, callback) => {
    // Only the setting names are read from the context.
    const env = environmentOf(context);
    const deps = buildDependencies(env, { verifier: instanceVerifier, memory: instanceMemory });
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
