/**
 * The plugin's build environment: webpack replaces `process.env` with the FLEX_APP_* (and REACT_APP_*) variables of
 * `.env` and the shell (see config.ts). Declared here because the plugin compiles without Node's types.
 */
declare const process: { env: Record<string, string | undefined> };
