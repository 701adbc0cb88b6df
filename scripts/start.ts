/**
 * `npm start`: the functions under twilio-run on http://localhost:3001 (3000
 * is the Flex plugin dev server's), in one warm process as a deployed instance
 * runs them (`--no-fork-process --no-live`, unless the command line chooses).
 *
 * With a Twilio account in the env file they call Twilio, once every setting
 * checks out. Without one (no .env, or .env.example's placeholders) they run
 * against the local sandbox: the Twilio stand-in on loopback, seeded with
 * sample conversations, whose simulated agents accept each transfer a few
 * seconds after its invite; the env file's settings that need no account are
 * honoured. Nothing is sent to Twilio.
 *
 * Before serving it checks the settings and the port, and exits non-zero
 * naming every problem; it never prompts. It stops everything it started on
 * SIGINT, SIGTERM or SIGHUP, and when the process that launched it goes away
 * (see stopWhenLauncherGoes).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, unwatchFile, watchFile, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseEnv, stripVTControlCharacters } from 'node:util';
import {
  SANDBOX_ACCEPT_AFTER_MS,
  type SandboxData,
  seedSandbox,
  simulateSandboxAgents,
  transferWorkflowConfiguration,
} from '../dev/sandbox-data';
import { httpEventDelivery, TwilioStandin } from '../dev/twilio-standin';
import { type Environment, SETTING_NAMES, type SettingName, settingsProblems } from '../src/config';
import { FUNCTIONS } from '../src/registry';
import { isSid } from '../src/value-formats';
import { choosesFlag, parseScriptArgs } from './cli-args';
import { REQUIRED_EVENTS } from './workspace-callback';

export const DEFAULT_PORT = 3001;
const SANDBOX_ACCOUNT_SID = 'AC' + '5a'.repeat(16);
const SANDBOX_AUTH_TOKEN = 'Sandb0xSandb0xSandb0xSandb0x1234';
const SANDBOX_WORKSPACE_SID = 'WS' + '5a'.repeat(16);
const PLUGIN_DEV_ORIGIN = 'http://localhost:3000';
/** Settings the sandbox never takes from the env file: the account, its workspace and where Twilio is are the stand-in's. */
const ACCOUNT_SETTINGS: readonly SettingName[] = ['ACCOUNT_SID', 'AUTH_TOKEN', 'TWILIO_FLEX_WORKSPACE_SID', 'TWILIO_REGION', 'TWILIO_EDGE'];
/** How long twilio-run may take to start, and to stop before it is killed outright. */
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 3_000;
/** How often the launcher (see stopWhenLauncherGoes) is looked at. */
const LAUNCHER_CHECK_MS = 500;

const root = process.env.RUN_TS_PROJECT_ROOT ?? process.cwd();
const args = parseScriptArgs(process.argv.slice(2));
const port = args.port ?? DEFAULT_PORT;
const baseUrl = `http://localhost:${port}`;
const envFile = resolve(args.envFile ?? join(root, '.env'));

function readEnvFile(path: string): Record<string, string> {
  return existsSync(path) ? (parseEnv(readFileSync(path, 'utf8')) as Record<string, string>) : {};
}

function fail(lines: string[]): never {
  for (const line of lines) console.error(line);
  process.exit(1);
}

/** Every settings problem, listed at once by the setting's name (never its value), before anything is served. */
function checkSettings(env: Environment, where: string): void {
  const problems = settingsProblems(env);
  if (problems.length > 0) {
    fail([
      `Not serving: fix these settings in ${where} first (placeholders count as not set):`,
      ...problems.map((p) => `  - ${p.message}`),
    ]);
  }
}

const otherPort = () => `stop what holds it, or run npm start -- --port ${port === 4000 ? 4001 : 4000}`;
const portTaken = (taken: number | string) => `Port ${taken} is already in use: ${otherPort()}.`;

/**
 * Whether the port is free where twilio-run will listen: a bare `listen(port)` (every interface, IPv6 and IPv4), as
 * express's `app.listen(port)` does. twilio-run itself would ask for another port on a terminal, and wait forever
 * without one.
 */
function portProblem(): Promise<string | undefined> {
  return new Promise((resolveCheck) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') resolveCheck(portTaken(port));
      else resolveCheck(`Port ${port} cannot be listened on (${error.code ?? error.message}): ${otherPort()}.`);
    });
    probe.listen(port, () => probe.close(() => resolveCheck(undefined)));
  });
}

/** twilio-run's flags that run every function in one warm process, as a deployed instance does (caches and memory kept). */
function warmInstanceFlags(): string[] {
  return [
    ...(choosesFlag(args.passThrough, 'fork-process') ? [] : ['--no-fork-process']),
    ...(choosesFlag(args.passThrough, 'live') ? [] : ['--no-live']),
  ];
}

function twilioRun(env: string, extraEnv: Record<string, string> = {}): ChildProcess {
  const bin = join(root, 'node_modules', 'twilio-run', 'bin', 'twilio-run.js');
  return spawn(process.execPath, [bin, 'start', '--port', String(port), '--env', env, ...warmInstanceFlags(), ...args.passThrough], {
    cwd: root,
    env: { ...process.env, ...extraEnv },
    // No stdin: twilio-run must never prompt. Its output is read until it serves, then passed through.
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

type Startup = { kind: 'serving' } | { kind: 'port-taken'; port: string } | { kind: 'exited'; code: number } | { kind: 'timed-out' };

/**
 * Waits until this twilio-run serves (it lists the functions only once it listens, so an answer from whatever else
 * holds the port is never mistaken for it). Its output is held back until then: on a taken port nothing of it shows.
 */
function startup(child: ChildProcess): Promise<Startup> {
  const held: Array<{ to: NodeJS.WriteStream; chunk: Buffer }> = [];
  let seen = '';
  let settled = false;
  const servedPath = new RegExp(`${FUNCTIONS['transfer-to-queue'].path}\\s*$`, 'm');
  return new Promise((resolveStartup) => {
    const settle = (outcome: Startup) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (outcome.kind !== 'port-taken') for (const { to, chunk } of held.splice(0)) to.write(chunk);
      resolveStartup(outcome);
    };
    const watch = (to: NodeJS.WriteStream) => (chunk: Buffer) => {
      if (settled) {
        to.write(chunk);
        return;
      }
      held.push({ to, chunk });
      seen += stripVTControlCharacters(chunk.toString());
      const taken = /Port (\d+) is already in use/.exec(seen);
      if (taken) settle({ kind: 'port-taken', port: taken[1] as string });
      else if (servedPath.test(seen)) settle({ kind: 'serving' });
    };
    child.stdout?.on('data', watch(process.stdout));
    child.stderr?.on('data', watch(process.stderr));
    child.once('exit', (code) => settle({ kind: 'exited', code: code ?? 1 }));
    const timer = setTimeout(() => settle({ kind: 'timed-out' }), START_TIMEOUT_MS);
  });
}

/** The parent of a process (Linux: /proc; elsewhere `ps`), or undefined where it cannot be read. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (command) state ppid ...": the command may hold spaces and parentheses.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    if (process.platform === 'win32') return undefined;
  }
  try {
    const ppid = Number(execFileSync('ps', ['-o', 'ppid=', '-p', String(pid)], { encoding: 'utf8' }).trim());
    return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * `npm start` runs `sh -c "npm run build && node scripts/run-ts.mjs scripts/start.ts"`. On SIGTERM npm forwards the
 * signal to that shell only, and the shell dies without passing it on (it does not exec the last command of an `&&`
 * list), so run-ts.mjs and this process would never hear of it. Hence: stop when the launcher of run-ts.mjs (that
 * shell, or npm) is gone, or when run-ts.mjs itself is.
 */
function stopWhenLauncherGoes(stop: (why: string) => void): void {
  const runner = process.ppid;
  const launcher = parentOf(runner);
  const timer = setInterval(() => {
    if (process.ppid !== runner) stop('the process that started it is gone');
    else if (launcher !== undefined && launcher > 1 && !isAlive(launcher)) stop('npm start was stopped');
  }, LAUNCHER_CHECK_MS);
  timer.unref();
}

/** Runs twilio-run until it exits or a stop is asked for; `cleanup` runs once either way, then this process exits. */
async function serve(child: ChildProcess, cleanup: () => Promise<void>, onServing: () => void): Promise<void> {
  let stopping = false;
  let serving = false;
  let cleaned: Promise<void> | undefined;
  const cleanupOnce = () => (cleaned ??= cleanup().catch(() => undefined));
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\nStopping (${why})…`);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS).unref();
    }
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop(signal));
  stopWhenLauncherGoes(stop);
  child.once('exit', (code, signal) => {
    unwatchFile(envFile);
    if (!serving && !stopping) return; // startup() reports it
    void cleanupOnce().then(() => process.exit(stopping ? 0 : (code ?? (signal ? 1 : 0))));
  });

  const started = await startup(child);
  if (stopping) return;
  if (started.kind === 'serving') {
    serving = true;
    onServing();
    announceEnvChanges();
    return;
  }
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await cleanupOnce();
  if (started.kind === 'port-taken') fail([portTaken(started.port)]);
  if (started.kind === 'timed-out') fail([`twilio-run did not start serving within ${START_TIMEOUT_MS / 1000} s.`]);
  fail([`twilio-run exited with code ${started.code} before serving.`]);
}

/** Settings are read once at start (twilio-run's rule): say so when the file changes. */
function announceEnvChanges(): void {
  watchFile(envFile, { interval: 1000 }, (current, previous) => {
    if (current.mtimeMs !== previous.mtimeMs) console.log(`\n${envFile} changed: stop and run npm start again to apply it.\n`);
  });
}

// ---------------------------------------------------------------------------
// The sandbox
// ---------------------------------------------------------------------------

/** The env file's settings the sandbox honours: every non-blank one that needs no account. */
function honouredSettings(fileEnv: Record<string, string>): Partial<Record<SettingName, string>> {
  const honoured: Partial<Record<SettingName, string>> = {};
  for (const name of SETTING_NAMES) {
    const value = fileEnv[name];
    if (!ACCOUNT_SETTINGS.includes(name) && value !== undefined && value.trim() !== '') honoured[name] = value;
  }
  return honoured;
}

/** The settings twilio-run gives the functions in the sandbox: the stand-in's account and workspace, then the env file's. */
function sandboxSettings(data: SandboxData, honoured: Partial<Record<SettingName, string>>): Record<string, string> {
  // A local plugin on the Flex dev server can always read the sandbox's answers.
  const origins = new Set([PLUGIN_DEV_ORIGIN, ...(honoured.TRANSFER_ALLOWED_ORIGINS ?? 'https://flex.twilio.com').split(',')]);
  return {
    TRANSFER_WORKFLOW_SID: data.workflow.sid,
    ...honoured,
    ACCOUNT_SID: SANDBOX_ACCOUNT_SID,
    AUTH_TOKEN: SANDBOX_AUTH_TOKEN,
    TWILIO_FLEX_WORKSPACE_SID: SANDBOX_WORKSPACE_SID,
    TRANSFER_ALLOWED_ORIGINS: [...origins]
      .map((origin) => origin.trim())
      .filter((origin) => origin !== '')
      .join(','),
  };
}

/** The workflows and queue the env file names exist in the sandbox too (as copies of its transfer workflow and a queue), so they can be used. */
function seedNamedResources(standin: TwilioStandin, data: SandboxData, honoured: Partial<Record<SettingName, string>>): void {
  const known = new Set<string>([data.workflow.sid, ...data.queues.map((queue) => queue.sid)]);
  const workflows = [honoured.TRANSFER_WORKFLOW_SID, ...(honoured.TRANSFER_ALLOWED_WORKFLOW_SIDS ?? '').split(',')].map((sid) =>
    sid?.trim(),
  );
  for (const sid of workflows) {
    if (sid === undefined || known.has(sid) || !isSid('workflow', sid)) continue;
    known.add(sid);
    standin.addWorkflow({
      workspaceSid: data.workspaceSid,
      sid,
      friendlyName: `Transfers (sandbox copy for ${sid})`,
      configuration: transferWorkflowConfiguration(
        data.queues[0].sid,
        data.queues.map((queue) => queue.sid),
      ),
    });
  }
  const queueSid = honoured.TRANSFER_AGENT_QUEUE_SID?.trim();
  if (queueSid !== undefined && !known.has(queueSid) && isSid('queue', queueSid)) {
    standin.addQueue({ workspaceSid: data.workspaceSid, sid: queueSid, friendlyName: `Agents (sandbox copy for ${queueSid})` });
  }
}

/** "Alice" for "Alice (demo agent)". */
const firstName = (worker: { friendlyName: string }) => worker.friendlyName.split(' (')[0] as string;

/** One line per simulated acceptance, and whether a cold transfer's agent was closed: what a newcomer would see in Flex. */
function announceAcceptances(standin: TwilioStandin, data: SandboxData): void {
  const nameOf = (workerSid: string | undefined) => {
    const worker = data.workers.find((candidate) => candidate.sid === workerSid);
    return worker === undefined ? workerSid : firstName(worker);
  };
  standin.eventDelivery = async (request) => {
    const answer = await httpEventDelivery(request);
    if (request.form.EventType !== 'reservation.accepted') return answer;
    let attributes: { transferType?: unknown; transferClose?: { interactionSid?: string; channelSid?: string; participantSid?: string } } =
      {};
    try {
      attributes = JSON.parse(request.form.TaskAttributes ?? '{}') as typeof attributes;
    } catch {
      // Not a transfer's task: nothing more to say.
    }
    const what = typeof attributes.transferType === 'string' ? `the ${attributes.transferType} transfer` : 'task';
    const lines = [
      `sandbox: ${nameOf(request.form.WorkerSid)} accepted ${what} ${request.form.TaskSid} (simulated); /transfer-events answered ${answer.status}.`,
    ];
    const close = attributes.transferClose;
    if (close?.interactionSid && close.channelSid && close.participantSid) {
      const participant = standin.participants(close.interactionSid, close.channelSid)?.find((p) => p.sid === close.participantSid);
      const workerSid = participant?.routing_properties?.worker_sid;
      lines.push(
        `sandbox: the transferring agent ${nameOf(typeof workerSid === 'string' ? workerSid : undefined)} (${close.participantSid}) is now ${participant?.status ?? 'unknown'}.`,
      );
    }
    console.log(lines.join('\n'));
    return answer;
  };
}

function sandboxBanner(data: SandboxData, settings: Record<string, string>, honoured: readonly string[], runKey: string): string {
  const [mine, colleagues] = data.conversations;
  const [alice, bob] = data.workers.map(firstName) as [string, string];
  const supportQueue = data.queues[0];
  const curl = (path: string, fields: Record<string, string>, idempotencyKey?: string) =>
    [
      `curl -si -w '\\n' -X POST ${baseUrl}${path}`,
      ...(idempotencyKey === undefined ? [] : [`  -H 'Idempotency-Key: ${idempotencyKey}'`]),
      ...Object.entries(fields).map(([name, value]) => `  --data-urlencode '${name}=${value}'`),
    ].join(' \\\n');
  const seconds = Math.round(SANDBOX_ACCEPT_AFTER_MS / 1000);
  const cold =
    (settings.TRANSFER_COLD_CLOSE ?? 'on-accept') === 'on-accept'
      ? `It answers 201 with participantCloses "on-accept": ${alice} stays with the customer until ${bob} accepts.\n` +
        `A simulated ${bob} accepts ~${seconds} s later, and /transfer-events closes ${alice}'s participant (this terminal says so).`
      : `TRANSFER_COLD_CLOSE=immediate (from ${envFile}): it answers 201 with participantClosed true; ${alice} leaves at once.`;
  return [
    '',
    `SANDBOX: no Twilio account in ${envFile}, so the functions call a local Twilio stand-in (nothing is sent to Twilio).`,
    "Demo Flex tokens (the stand-in accepts them as Twilio would accept a logged-in user's):",
    `  agent      ${data.workers[0].friendlyName}: ${data.tokens.agent}`,
    `  supervisor ${data.workers[1].friendlyName}: ${data.tokens.supervisor}`,
    ...(honoured.length === 0
      ? []
      : [
          `Settings taken from ${envFile}: ${honoured.join(', ')}.`,
          `(The account and workspace are the sandbox's; ${PLUGIN_DEV_ORIGIN} is always an allowed origin here.)`,
        ]),
    '',
    `1. Cold transfer of ${mine.customerName}'s conversation from ${alice} to ${bob}.`,
    cold,
    curl(
      '/transfer-to-agent',
      {
        Token: data.tokens.agent,
        interactionSid: mine.interactionSid,
        channelSid: mine.channelSid,
        workerSid: data.workers[1].sid,
        taskSid: mine.taskSid,
        transferType: 'cold',
      },
      `${runKey}-cold`,
    ),
    '',
    `2. Wait ~${seconds} s, then list that conversation's transfers: the cold one shows taskStatus "assigned" (${bob} accepted) and cancelable false.`,
    curl('/list-transfers', { Token: data.tokens.agent, interactionSid: mine.interactionSid, channelSid: mine.channelSid }),
    '',
    `3. ${bob}, as supervisor, warm-transfers ${colleagues.customerName}'s conversation to the ${supportQueue.friendlyName} queue (a simulated ${alice} accepts).`,
    `A supervisor may act on any conversation; an agent only on one she is in: ${alice}'s token on a conversation she is not in answers 403.`,
    curl(
      '/transfer-to-queue',
      {
        Token: data.tokens.supervisor,
        interactionSid: colleagues.interactionSid,
        channelSid: colleagues.channelSid,
        queueSid: supportQueue.sid,
        taskSid: colleagues.taskSid,
      },
      `${runKey}-warm`,
    ),
    '',
    'Paste a transfer twice: the same Idempotency-Key and body replay the first answer (201, the same inviteSid,',
    'Idempotent-Replayed: true) and nothing new is created. The keys are new at every npm start.',
    '',
    'Functions served:',
    ...Object.values(FUNCTIONS).map(({ path, purpose }) => `  ${baseUrl}${path}  (${purpose})`),
    '',
    'Next: your first real transfer (docs/first-real-transfer.md): put your account in .env (see .env.example) and run npm start again.',
    '',
  ].join('\n');
}

/** One line of an env file twilio-run reads (dotenv): single-quoted unless plain, so `#`, quotes and spaces stay as they are. */
function envLine(name: string, value: string): string {
  return /^[\w.,:/@+-]*$/.test(value) || value.includes("'") || /[\r\n]/.test(value) ? `${name}=${value}` : `${name}='${value}'`;
}

async function runSandbox(): Promise<void> {
  const honoured = honouredSettings(readEnvFile(envFile));
  // Settings first, with the values they will have (a placeholder SID stands for a valid one here).
  checkSettings(
    { ...honoured, ACCOUNT_SID: SANDBOX_ACCOUNT_SID, AUTH_TOKEN: SANDBOX_AUTH_TOKEN, TWILIO_FLEX_WORKSPACE_SID: SANDBOX_WORKSPACE_SID },
    envFile,
  );
  const busy = await portProblem();
  if (busy !== undefined) fail([busy]);

  const standin = await new TwilioStandin(SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN).start();
  const data = seedSandbox(standin, { workspaceSid: SANDBOX_WORKSPACE_SID });
  seedNamedResources(standin, data, honoured);
  standin.changeWorkspace(data.workspaceSid, {
    eventCallbackUrl: `${baseUrl}${FUNCTIONS['transfer-events'].path}`,
    eventsFilter: REQUIRED_EVENTS,
  });
  simulateSandboxAgents(standin);
  announceAcceptances(standin, data);

  const settings = sandboxSettings(data, honoured);
  const redirect = {
    // The functions run inside twilio-run (no fork per request): the redirect to the stand-in must be preloaded there.
    NODE_OPTIONS: [process.env.NODE_OPTIONS, `--require ${JSON.stringify(join(root, 'dev', 'redirect-twilio.cjs'))}`]
      .filter(Boolean)
      .join(' '),
    TWILIO_STANDIN_URL: standin.url,
  };
  const sandboxEnv = join(mkdtempSync(join(tmpdir(), 'flex-transfer-sandbox-')), 'sandbox.env');
  // With --fork-process, twilio-run builds each function process's environment from this file: the redirect is here too.
  const lines = Object.entries({ ...settings, ...redirect }).map(([name, value]) => envLine(name, value));
  writeFileSync(sandboxEnv, lines.join('\n') + '\n', { mode: 0o600 });

  const runKey = `sandbox-${randomBytes(4).toString('hex')}`;
  await serve(
    twilioRun(sandboxEnv, redirect),
    async () => {
      rmSync(dirname(sandboxEnv), { recursive: true, force: true });
      await standin.stop();
    },
    () => console.log(sandboxBanner(data, settings, Object.keys(honoured), runKey)),
  );
}

// ---------------------------------------------------------------------------
// Real mode
// ---------------------------------------------------------------------------

async function runReal(fileEnv: Record<string, string>, accountSid: string): Promise<void> {
  checkSettings(fileEnv, envFile);
  const busy = await portProblem();
  if (busy !== undefined) fail([busy]);
  const shown = isSid('account', accountSid) ? `account ${accountSid.slice(0, 6)}…` : 'the account';
  console.log(`Calling Twilio for ${shown} with the settings in ${envFile}.`);
  const origins = (fileEnv.TRANSFER_ALLOWED_ORIGINS ?? '').split(',').map((origin) => origin.trim());
  await serve(
    twilioRun(envFile),
    () => Promise.resolve(),
    () => {
      console.log(`\nServing ${baseUrl} against Twilio. Your first real transfer: docs/first-real-transfer.md`);
      if (!origins.includes(PLUGIN_DEV_ORIGIN)) {
        console.log(
          `A Flex plugin on its dev server (${PLUGIN_DEV_ORIGIN}) cannot read these answers: add ${PLUGIN_DEV_ORIGIN} to TRANSFER_ALLOWED_ORIGINS.`,
        );
      }
    },
  );
}

/** No account at all, or .env.example's placeholder: the sandbox. Anything else is an attempt at an account (real mode). */
function namesAnAccount(accountSid: string | undefined): accountSid is string {
  const placeholder = readEnvFile(join(root, '.env.example')).ACCOUNT_SID?.trim();
  return accountSid !== undefined && accountSid !== '' && accountSid !== placeholder;
}

// A closed terminal or pipe must not end this process before it has stopped what it started.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);
if (args.problems.length > 0)
  fail([...args.problems, 'Usage: npm start -- [--port 4000] [--env other.env] [other twilio-run start options]']);
if (args.envFile !== undefined && !existsSync(envFile)) fail([`No env file ${envFile} (--env): nothing was started.`]);
const fileEnv = readEnvFile(envFile);
const accountSid = fileEnv.ACCOUNT_SID?.trim();
(namesAnAccount(accountSid) ? runReal(fileEnv, accountSid) : runSandbox()).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
