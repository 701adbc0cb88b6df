/**
 * A newcomer's first hour, as they would live it: `npm start` in a fresh copy
 * of the project with no .env prints sandbox commands that answer as
 * promised (pasted twice, a transfer is replayed; the cold one completes when
 * the simulated agent accepts), a busy port is named before anything is
 * printed, SIGTERM to npm frees the port, real mode refuses bad settings
 * before serving, and `npm run deploy` refuses .env.example's placeholders
 * without touching the network. Every connection is made to loopback
 * (twilio-run itself listens on every interface, as npm start's does).
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, PROJECT_ROOT } from '../support/functions-server';

const run = promisify(execFile);
const pause = (ms: number) => new Promise((resolveWait) => setTimeout(resolveWait, ms));

/** The project as a fresh clone would have it (tracked and new files, nothing ignored: no .env, no dist/), sharing node_modules. */
function freshCopy(): string {
  const copy = mkdtempSync(join(tmpdir(), 'fresh-clone-'));
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: PROJECT_ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((file) => file !== '' && existsSync(join(PROJECT_ROOT, file)));
  for (const file of files) {
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    copyFileSync(join(PROJECT_ROOT, file), join(copy, file));
  }
  symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  return copy;
}

/** The curl commands printed by `npm start`, each joined from its continuation lines. */
function printedCurlCommands(output: string): string[] {
  return output
    .split('\n\n')
    .map((block) => block.split('\n').filter((line) => line.startsWith('curl ') || line.startsWith('  -')))
    .filter((lines) => lines.length > 0)
    .map((lines) => lines.join('\n'));
}

interface Pasted {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** Runs a printed command in a shell, as a user pasting it would, and reads curl's `-i` output. */
async function paste(command: string): Promise<Pasted> {
  const { stdout } = await run('bash', ['-c', command]);
  const [head = '', ...rest] = stdout.replace(/\r\n/g, '\n').split('\n\n');
  const [statusLine = '', ...headerLines] = head.split('\n');
  const headers = Object.fromEntries(
    headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
  );
  return {
    status: Number(/^HTTP\/[\d.]+ (\d{3})/.exec(statusLine)?.[1]),
    headers,
    body: JSON.parse(rest.join('\n\n')) as Record<string, unknown>,
  };
}

interface Started {
  process: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Spawns in its own process group (so the test can clean up everything), collecting stdout and stderr. */
function start(command: string, commandArgs: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Started {
  const child = spawn(command, commandArgs, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  return { process: child, output: () => output, exited };
}

/** Resolves with the exit code, or rejects after `ms` (the process group is then killed). */
async function exitWithin(started: Started, ms: number): Promise<number | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<'timeout'>((resolveTimeout) => (timer = setTimeout(() => resolveTimeout('timeout'), ms)));
  const outcome = await Promise.race([started.exited, timeout]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    killGroup(started.process);
    throw new Error(`still running after ${ms} ms:\n${started.output()}`);
  }
  return outcome;
}

function killGroup(child: ChildProcess | undefined): void {
  if (child?.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // The group is already gone.
  }
}

/** The live (not zombie) processes of a process group. */
function liveProcessesOf(groupId: number): string[] {
  return execFileSync('ps', ['-eo', 'pgid=,stat=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([pgid, stat]) => Number(pgid) === groupId && stat !== undefined && !stat.startsWith('Z'))
    .map((fields) => fields.slice(2).join(' '));
}

/** Whether something accepts connections on 127.0.0.1:port. */
function answersOn(port: number): Promise<boolean> {
  return fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) }).then(
    () => true,
    () => false,
  );
}

async function until(condition: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await pause(100)) if (await condition()) return true;
  return condition();
}

/** Holds a port on 127.0.0.1 as another local server would. */
async function holdPort(port: number): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolveListen) => server.listen(port, '127.0.0.1', resolveListen));
  return server;
}

let copy: string;

beforeAll(() => {
  copy = freshCopy();
}, 60_000);

afterAll(() => {
  if (copy !== undefined) rmSync(copy, { recursive: true, force: true });
});

describe('npm start on a busy port', () => {
  test('says which port is taken and exits non-zero, before printing a banner and without waiting for an answer', async () => {
    const port = await freePort();
    const holder = await holdPort(port);
    try {
      const started = start('npm', ['start', '--', '--port', String(port)], { cwd: copy });
      const code = await exitWithin(started, 60_000);
      expect(code).not.toBe(0);
      expect(started.output()).toContain(`Port ${port} is already in use`);
      expect(started.output()).not.toContain('SANDBOX');
      expect(started.output()).not.toContain('curl ');
    } finally {
      holder.close();
    }
  }, 70_000);
});

describe('npm start with no Twilio account', () => {
  let server: Started;
  let port: number;
  let commands: { cold: string; list: string; supervisor: string };

  beforeAll(async () => {
    port = await freePort();
    server = start('npm', ['start', '--', '--port', String(port)], { cwd: copy });
    for (let waited = 0; !server.output().includes('Next: your first real transfer') && waited < 90_000; waited += 250) {
      if (server.process.exitCode !== null) throw new Error(`npm start exited:\n${server.output()}`);
      await pause(250);
    }
    const [cold = '', list = '', supervisor = ''] = printedCurlCommands(server.output());
    commands = { cold, list, supervisor };
  }, 120_000);

  afterAll(() => killGroup(server?.process));

  test("says it is the sandbox and prints the agent's and the supervisor's demo tokens", () => {
    expect(server.output()).toContain('SANDBOX');
    const token = '[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]*){4}';
    expect(server.output()).toMatch(new RegExp(`agent +.*: ${token}\\n`));
    expect(server.output()).toMatch(new RegExp(`supervisor +.*: ${token}\\n`));
    expect(printedCurlCommands(server.output())).toHaveLength(3);
  });

  test("an agent may not touch the colleague's conversation: the supervisor's command with the agent's token answers 403", async () => {
    const agentToken = /Token=([^']+)'/.exec(commands.cold)?.[1] as string;
    const asAgent = commands.supervisor.replace(/Token=[^']+'/, `Token=${agentToken}'`).replace(/\n {2}-H 'Idempotency-Key: [^']+' \\/, '');
    expect((await paste(asAgent)).status).toBe(403);
  }, 30_000);

  test('every printed command answers as promised when pasted into a shell', async () => {
    const cold = await paste(commands.cold);
    expect(cold.status).toBe(201);
    expect(cold.body).toMatchObject({ transferType: 'cold', participantClosed: false, participantCloses: 'on-accept' });
    expect((await paste(commands.list)).status).toBe(200);
    expect((await paste(commands.supervisor)).status).toBe(201);
  }, 30_000);

  test('pasting a printed transfer twice replays it: the same invite, Idempotent-Replayed, no second invite', async () => {
    const first = (await paste(commands.list)).body.transfers as Array<{ inviteSid: string }>;
    const again = await paste(commands.cold);
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(first.map((transfer) => transfer.inviteSid)).toContain(again.body.inviteSid);
    const after = (await paste(commands.list)).body.transfers as unknown[];
    expect(after).toHaveLength(first.length);
    expect(after).toHaveLength(1);
  }, 30_000);

  test('the printed cold transfer completes: a few seconds later the printed list shows it accepted, and the agent closed', async () => {
    let transfer: Record<string, unknown> | undefined;
    await until(async () => {
      [transfer] = (await paste(commands.list)).body.transfers as Array<Record<string, unknown>>;
      return transfer?.taskStatus === 'assigned';
    }, 15_000);
    expect(transfer).toMatchObject({ transferType: 'cold', taskStatus: 'assigned', participantCloses: 'on-accept', cancelable: false });
    expect(await until(() => /transferring agent .* is now closed/.test(server.output()), 5_000)).toBe(true);
  }, 30_000);

  test('SIGTERM to the npm process stops everything npm start started and frees the port within seconds', async () => {
    const groupId = server.process.pid as number;
    expect(await answersOn(port)).toBe(true);
    const stoppedAt = Date.now();
    server.process.kill('SIGTERM');
    expect(await until(async () => !(await answersOn(port)) && liveProcessesOf(groupId).length === 0, 10_000)).toBe(true);
    expect(liveProcessesOf(groupId)).toEqual([]);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
  }, 30_000);
});

describe('npm run deploy', () => {
  test('refuses the .env.example placeholders, naming each setting and never its value, before any network use', async () => {
    const networkLog = join(mkdtempSync(join(tmpdir(), 'no-network-')), 'attempts.log');
    const attempt = run('node', [join(PROJECT_ROOT, 'scripts', 'run-ts.mjs'), 'scripts/deploy.ts', '--env', '.env.example'], {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        NODE_OPTIONS: `--require ${join(PROJECT_ROOT, 'test', 'support', 'no-network.cjs')}`,
        NO_NETWORK_LOG: networkLog,
      },
    });
    const failure = (await attempt.then(
      () => undefined,
      (error: unknown) => error,
    )) as { code: number; stderr: string } | undefined;
    expect(failure?.code).toBe(1);
    for (const name of ['ACCOUNT_SID', 'AUTH_TOKEN', 'TWILIO_FLEX_WORKSPACE_SID']) expect(failure?.stderr).toContain(name);
    const example = readFileSync(join(PROJECT_ROOT, '.env.example'), 'utf8');
    const placeholderToken = /^AUTH_TOKEN=(.+)$/m.exec(example)?.[1] as string;
    expect(failure?.stderr).not.toContain(placeholderToken);
    expect(existsSync(networkLog) ? readFileSync(networkLog, 'utf8') : '').toBe('');
  }, 60_000);
});

describe('npm start with an account in the env file (real mode)', () => {
  const startScript = (port: number, envFile: string, networkLog: string) =>
    start('node', [join(PROJECT_ROOT, 'scripts', 'run-ts.mjs'), 'scripts/start.ts', '--port', String(port), '--env', envFile], {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        NODE_OPTIONS: `--require ${join(PROJECT_ROOT, 'test', 'support', 'no-network.cjs')}`,
        NO_NETWORK_LOG: networkLog,
      },
    });

  test('a mistyped ACCOUNT_SID and an empty workspace: both named at once, never their values, and nothing served', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'typo-env-'));
    const envFile = join(dir, 'typo.env');
    writeFileSync(envFile, 'ACCOUNT_SID=AC123\nAUTH_TOKEN=0123456789abcdef0123456789ABCDEF\nTWILIO_FLEX_WORKSPACE_SID=\n');
    const port = await freePort();
    const started = startScript(port, envFile, join(dir, 'network.log'));
    const code = await exitWithin(started, 30_000);
    expect(code).not.toBe(0);
    expect(started.output()).toContain('Not serving');
    expect(started.output()).toMatch(/ACCOUNT_SID[^\n]*\n[^\n]*TWILIO_FLEX_WORKSPACE_SID/);
    expect(started.output()).not.toContain('AC123');
    expect(started.output()).not.toContain('Calling Twilio');
    expect(await answersOn(port)).toBe(false);
    expect(existsSync(join(dir, 'network.log'))).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  }, 40_000);

  test('well-formed settings: it says it calls Twilio, serves, says what a local plugin needs, and stops on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'real-env-'));
    const envFile = join(dir, 'real.env');
    writeFileSync(
      envFile,
      `ACCOUNT_SID=AC${'b2'.repeat(16)}\nAUTH_TOKEN=0123456789abcdef0123456789ABCDEF\nTWILIO_FLEX_WORKSPACE_SID=WS${'c3'.repeat(16)}\n`,
    );
    const port = await freePort();
    const started = startScript(port, envFile, join(dir, 'network.log'));
    try {
      expect(await until(() => started.output().includes('Serving'), 60_000)).toBe(true);
      expect(started.output()).toContain(`Calling Twilio for account AC${'b2'.repeat(2)}`);
      expect(started.output()).toContain('add http://localhost:3000 to TRANSFER_ALLOWED_ORIGINS');
      expect(await answersOn(port)).toBe(true);
      started.process.kill('SIGTERM');
      expect(await exitWithin(started, 10_000)).toBe(0);
      expect(await answersOn(port)).toBe(false);
      expect(existsSync(join(dir, 'network.log')) ? readFileSync(join(dir, 'network.log'), 'utf8') : '').toBe('');
    } finally {
      killGroup(started.process);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
