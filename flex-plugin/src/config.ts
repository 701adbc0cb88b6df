/**
 * The plugin's one setting: the base URL of the transfer functions, from FLEX_APP_TRANSFER_FUNCTIONS_URL. The plugin
 * tooling (`twilio flex:plugins:start`, `twilio flex:plugins:build`/`deploy`) reads `.env` in the plugin folder and
 * the shell's environment, and compiles the value of every `FLEX_APP_*` variable into the bundle at build time.
 */

export const FUNCTIONS_URL_VARIABLE = 'FLEX_APP_TRANSFER_FUNCTIONS_URL';

export type FunctionsUrl = { ok: true; url: string } | { ok: false; problem: string };

/** The functions' base URL, or why there is none: http(s), no query or fragment; a trailing slash is dropped. */
export function functionsUrlFrom(value: string | undefined): FunctionsUrl {
  const text = value?.trim() ?? '';
  if (text === '') return { ok: false, problem: `${FUNCTIONS_URL_VARIABLE} is not set` };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, problem: `${FUNCTIONS_URL_VARIABLE} is not a URL` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return { ok: false, problem: `${FUNCTIONS_URL_VARIABLE} must be an http(s) URL` };
  if (url.search !== '' || url.hash !== '') return { ok: false, problem: `${FUNCTIONS_URL_VARIABLE} must not carry a query or fragment` };
  return { ok: true, url: url.origin + url.pathname.replace(/\/+$/, '') };
}

/** The value compiled into the bundle (webpack's DefinePlugin replaces `process.env` with the FLEX_APP_* values). */
export function configuredFunctionsUrl(): FunctionsUrl {
  return functionsUrlFrom(process.env.FLEX_APP_TRANSFER_FUNCTIONS_URL);
}
