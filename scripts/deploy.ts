/**
 * `npm run deploy`: checks the settings with the functions' own rules before
 * anything touches the network, then builds and deploys with twilio-run and
 * prints the functions' URLs. Credentials come from the env file's
 * ACCOUNT_SID/AUTH_TOKEN (twilio-run's rule); `twilio serverless:deploy`
 * takes them from the Twilio CLI profile instead.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { parseSettings, settingsProblems } from '../src/config';
import { FUNCTIONS } from '../src/registry';
import { helperLibrarySender } from '../src/twilio/sender';
import { ensureWorkspaceCallback } from './workspace-callback';
import { parseScriptArgs } from './cli-args';

const root = process.env.RUN_TS_PROJECT_ROOT ?? process.cwd();
const args = parseScriptArgs(process.argv.slice(2));
const envFile = resolve(args.envFile ?? join(root, '.env'));

function run(command: string, commandArgs: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(command, commandArgs, { cwd: root, stdio: ['inherit', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      process.stdout.write(chunk);
    });
    child.on('exit', (code) => resolveRun({ code: code ?? 1, output }));
  });
}

async function main(): Promise<number> {
  if (!existsSync(envFile)) {
    console.error(`No ${envFile}: copy .env.example to .env and fill in your account (nothing was deployed).`);
    return 1;
  }
  const env = parseEnv(readFileSync(envFile, 'utf8'));
  const problems = settingsProblems(env);
  if (problems.length > 0) {
    console.error(`Not deploying: fix these settings in ${envFile} first (placeholders count as not set):`);
    for (const problem of problems) console.error(`  - ${problem.message}`);
    return 1;
  }
  const built = await run(process.execPath, [join(root, 'scripts', 'build.mjs')]);
  if (built.code !== 0) return built.code;
  const deployed = await run(join(root, 'node_modules', '.bin', 'twilio-run'), ['deploy', '--env', envFile, ...args.passThrough]);
  if (deployed.code !== 0) return deployed.code;
  const domain = /([a-z0-9-]+(?:-\d+)?(?:-[a-z]+)?\.twil\.io)/i.exec(deployed.output)?.[1];
  if (domain !== undefined) {
    console.log('\nYour functions:');
    for (const { path, purpose } of Object.values(FUNCTIONS)) console.log(`  https://${domain}${path}  (${purpose})`);
    const report = await ensureWorkspaceCallback({
      settings: parseSettings(env),
      callbackUrl: `https://${domain}${FUNCTIONS['transfer-events'].path}`,
      sender: helperLibrarySender(),
    }).catch((thrown: unknown) => ({
      action: 'failed',
      message: `The workspace's event callback could not be checked: ${String(thrown)}`,
    }));
    console.log(`\n${report.message}`);
  }
  return 0;
}

main().then((code) => process.exit(code));
