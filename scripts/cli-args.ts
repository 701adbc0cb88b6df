/** The few twilio-run options the npm scripts look at; everything else passes through untouched. */
export interface ScriptArgs {
  port: number | undefined;
  envFile: string | undefined;
  passThrough: string[];
  /** What could not be read, one sentence each (e.g. a `--port` that is not a port number). */
  problems: string[];
}

/** twilio-run's own rule for a port it is asked to use (its "choose a new port" prompt refuses anything else). */
const MIN_PORT = 1025;
const MAX_PORT = 65535;

export function parseScriptArgs(argv: readonly string[]): ScriptArgs {
  const parsed: ScriptArgs = { port: undefined, envFile: undefined, passThrough: [], problems: [] };
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index] as string;
    const [name, inlineValue] = argument.includes('=') ? (argument.split(/=(.*)/s, 2) as [string, string]) : [argument, undefined];
    const value = (): string | undefined => inlineValue ?? argv[++index];
    if (name === '--port' || name === '-p') {
      const raw = value();
      const port = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : NaN;
      if (Number.isInteger(port) && port >= MIN_PORT && port <= MAX_PORT) parsed.port = port;
      else parsed.problems.push(`${name} needs a port number from ${MIN_PORT} to ${MAX_PORT}${raw === undefined ? '' : `, not "${raw}"`}.`);
    } else if (name === '--env') {
      const envFile = value();
      if (envFile === undefined || envFile === '') parsed.problems.push('--env needs the path of an env file.');
      else parsed.envFile = envFile;
    } else parsed.passThrough.push(argument);
  }
  return parsed;
}

/** Whether the arguments already choose a twilio-run boolean flag, either way (`--live`, `--no-live`, `--live=false`). */
export function choosesFlag(passThrough: readonly string[], flag: string): boolean {
  return passThrough.some((argument) => argument === `--${flag}` || argument === `--no-${flag}` || argument.startsWith(`--${flag}=`));
}
