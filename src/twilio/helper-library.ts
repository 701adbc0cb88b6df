import type * as TwilioModule from 'twilio';

let loaded: typeof TwilioModule | undefined;

/** The `twilio` helper library, loaded on first use: requests refused before any Twilio call never pay the ~200 ms it takes. */
export function helperLibrary(): typeof TwilioModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loaded ??= require('twilio') as typeof TwilioModule;
  return loaded;
}
