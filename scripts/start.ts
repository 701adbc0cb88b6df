/**
 * `npm start`: the functions under twilio-run on http://localhost:3001 (3000
 * is the Flex plugin dev server's). With a Twilio account in the env file they
 * call Twilio; without one (no .env, or .env.example's placeholders) they run
 * against the local sandbox: the Twilio stand-in on loopback, seeded with
 * sample conversations, so nothing is sent to Twilio.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, unwatchFile, watchFile, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { seedSandbox } from '../dev/sandbox-data';
import { TwilioStandin } from '../dev/twilio-standin';
import { isSid } from '../src/sids';
import { parseScriptArgs } from './cli-args';
import { FUNCTIONS } from '../src/registry';

export const DEFAULT_PORT = 3001;
const SANDBOX_ACCOUNT_SID = 'AC' + '5a'.repeat(16);
const SANDBOX_AUTH_TOKEN = 'Sandb0xSandb0xSandb0xSandb0x1234';
const SANDBOX_WORKSPACE_SID = 'WS' + '5a'.repeat(16);
const PLUGIN_DEV_ORIGIN = 'http://localhost:3000';

const root = process.env.RUN_TS_PROJECT_ROOT ?? process.cwd();
const args = parseScriptArgs(process.argv.slice(2));
const port = args.port ?? DEFAULT_PORT;
const envFile = resolve(args.envFile ?? join(root, '.env'));

function readEnvFile(path: string): Record<string, string> {
  return existsSync(path) ? (parseEnv(readFileSync(path, 'utf8')) as Record<string, string>) : {};
}

function twilioRun(env: string): ChildProcess {
  const bin = join(root, 'node_modules', '.bin', 'twilio-run');
  return spawn(bin, ['start', '--port', String(port), '--env', env, ...args.passThrough], { cwd: root, stdio: 'inherit' });
}

async function untilAnswering(url: string, child: ChildProcess): Promise<void> {
  for (let waited = 0; waited < 60_000; waited += 200) {
    if (child.exitCode !== null) throw new Error(`twilio-run exited with code ${child.exitCode}`);
    try {
      await fetch(url, { method: 'OPTIONS' });
      return;
    } catch {
      await new Promise((resolveWait) => setTimeout(resolveWait, 200));
    }
  }
  throw new Error('twilio-run did not answer within 60 s');
}

/** Settings are read once at start (twilio-run's rule): say so when the file changes. */
function announceEnvChanges(): void {
  watchFile(envFile, { interval: 1000 }, (current, previous) => {
    if (current.mtimeMs !== previous.mtimeMs) console.log(`\n${envFile} changed: stop and run npm start again to apply it.\n`);
  });
}

function sandboxBanner(data: ReturnType<typeof seedSandbox>, baseUrl: string): string {
  const [mine] = data.conversations;
  const queue = data.queues[1];
  const colleague = data.workers[1];
  const curl = (path: string, fields: Record<string, string>) =>
    `curl -s -w '\\nHTTP %{http_code}\\n' -X POST ${baseUrl}${path} \\\n` +
    Object.entries(fields)
      .map(([name, value]) => `  --data-urlencode '${name}=${value}'`)
      .join(' \\\n');
  return [
    '',
    `SANDBOX: no Twilio account in ${envFile}, so the functions talk to a local Twilio stand-in (nothing is sent to Twilio).`,
    `Demo agent token (${data.workers[0].friendlyName}): ${data.tokens.agent}`,
    '',
    `Warm transfer of ${mine.customerName}'s conversation to the ${queue.friendlyName} queue:`,
    curl('/transfer-to-queue', {
      Token: data.tokens.agent,
      interactionSid: mine.interactionSid,
      channelSid: mine.channelSid,
      queueSid: queue.sid,
      taskSid: mine.taskSid,
    }),
    '',
    `Cold transfer of the same conversation to ${colleague.friendlyName}:`,
    curl('/transfer-to-agent', {
      Token: data.tokens.agent,
      interactionSid: mine.interactionSid,
      channelSid: mine.channelSid,
      workerSid: colleague.sid,
      taskSid: mine.taskSid,
      transferType: 'cold',
    }),
    '',
    `Pending transfers of that conversation:`,
    curl('/list-transfers', { Token: data.tokens.agent, interactionSid: mine.interactionSid, channelSid: mine.channelSid }),
    '',
    'Functions served:',
    ...Object.values(FUNCTIONS).map(({ path, purpose }) => `  ${baseUrl}${path}  (${purpose})`),
    '',
    'Next: put your account in .env (see .env.example) and run npm start again; then npm run deploy.',
    '',
  ].join('\n');
}

async function runSandbox(): Promise<void> {
  const standin = await new TwilioStandin(SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN).start();
  const data = seedSandbox(standin, { workspaceSid: SANDBOX_WORKSPACE_SID });
  const sandboxEnv = join(mkdtempSync(join(tmpdir(), 'flex-transfer-sandbox-')), 'sandbox.env');
  const settings: Record<string, string> = {
    ACCOUNT_SID: SANDBOX_ACCOUNT_SID,
    AUTH_TOKEN: SANDBOX_AUTH_TOKEN,
    TWILIO_FLEX_WORKSPACE_SID: SANDBOX_WORKSPACE_SID,
    TRANSFER_ALLOWED_ORIGINS: `${PLUGIN_DEV_ORIGIN},https://flex.twilio.com`,
    // twilio-run builds each function process's environment from this file: the redirect to the stand-in must be here.
    NODE_OPTIONS: `--require ${join(root, 'dev', 'redirect-twilio.cjs')}`,
    TWILIO_STANDIN_URL: standin.url,
  };
  writeFileSync(
    sandboxEnv,
    Object.entries(settings)
      .map(([name, value]) => `${name}=${value}`)
      .join('\n') + '\n',
  );
  const child = twilioRun(sandboxEnv);
  const stop = () => {
    child.kill('SIGTERM');
    unwatchFile(envFile);
    void standin.stop();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  child.on('exit', (code) => {
    void standin.stop();
    unwatchFile(envFile);
    process.exitCode = code ?? 0;
  });
  await untilAnswering(`http://localhost:${port}/transfer-to-queue`, child);
  console.log(sandboxBanner(data, `http://localhost:${port}`));
  announceEnvChanges();
}

function runReal(accountSid: string): void {
  const shown = isSid('account', accountSid) ? `account ${accountSid.slice(0, 6)}…` : 'the account';
  console.log(`Calling Twilio for ${shown} with the settings in ${envFile} (a missing or malformed setting answers 500 naming it).`);
  const child = twilioRun(envFile);
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('exit', (code) => {
    unwatchFile(envFile);
    process.exitCode = code ?? 0;
  });
  announceEnvChanges();
}

/** No account at all, or .env.example's placeholder: the sandbox. Anything else is an attempt at an account (real mode). */
function namesAnAccount(accountSid: string | undefined): accountSid is string {
  const placeholder = readEnvFile(join(root, '.env.example')).ACCOUNT_SID?.trim();
  return accountSid !== undefined && accountSid !== '' && accountSid !== placeholder;
}

const accountSid = readEnvFile(envFile).ACCOUNT_SID?.trim();
if (namesAnAccount(accountSid)) runReal(accountSid);
else
  runSandbox().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
