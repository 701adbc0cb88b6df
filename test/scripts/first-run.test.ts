/**
 * A newcomer's first hour, as they would live it: `npm start` in a fresh copy
 * of the project with no .env prints sandbox commands that answer as
 * promised, and `npm run deploy` refuses .env.example's placeholders without
 * touching the network.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, PROJECT_ROOT } from '../support/functions-server';

const run = promisify(execFile);

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
    .map((block) => block.split('\n').filter((line) => line.startsWith('curl ') || line.startsWith('  --')))
    .filter((lines) => lines.length > 0)
    .map((lines) => lines.join('\n'));
}

describe('npm start with no Twilio account', () => {
  let copy: string;
  let server: ChildProcess;
  let output = '';

  beforeAll(async () => {
    copy = freshCopy();
    const port = await freePort();
    server = spawn('npm', ['start', '--', '--port', String(port)], { cwd: copy, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    for (let waited = 0; !output.includes('Next: put your account') && waited < 90_000; waited += 250) {
      if (server.exitCode !== null) throw new Error(`npm start exited:\n${output}`);
      await new Promise((resolveWait) => setTimeout(resolveWait, 250));
    }
  }, 120_000);

  afterAll(() => {
    if (server?.pid !== undefined) process.kill(-server.pid, 'SIGTERM');
    rmSync(copy, { recursive: true, force: true });
  });

  test('says it is the sandbox and prints a demo agent token', () => {
    expect(output).toContain('SANDBOX');
    expect(output).toMatch(/Demo agent token \(.*\): [A-Za-z0-9_-]+(\.[A-Za-z0-9_-]*){4}\n/);
  });

  test('every printed command answers as promised when pasted into a shell', async () => {
    const commands = printedCurlCommands(output);
    expect(commands).toHaveLength(3);
    const statuses: string[] = [];
    for (const command of commands) {
      const { stdout } = await run('bash', ['-c', command]);
      statuses.push(/HTTP (\d{3})\s*$/.exec(stdout)?.[1] ?? stdout);
    }
    expect(statuses).toEqual(['201', '201', '200']);
  }, 60_000);
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
