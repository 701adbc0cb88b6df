/** The few twilio-run options the npm scripts look at; everything else passes through untouched. */
export interface ScriptArgs {
  port: number | undefined;
  envFile: string | undefined;
  passThrough: string[];
}

export function parseScriptArgs(argv: readonly string[]): ScriptArgs {
  const parsed: ScriptArgs = { port: undefined, envFile: undefined, passThrough: [] };
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index] as string;
    const [name, inlineValue] = argument.includes('=') ? (argument.split(/=(.*)/s, 2) as [string, string]) : [argument, undefined];
    const value = (): string => inlineValue ?? (argv[++index] as string);
    if (name === '--port' || name === '-p') parsed.port = Number(value());
    else if (name === '--env') parsed.envFile = value();
    else parsed.passThrough.push(argument);
  }
  return parsed;
}
