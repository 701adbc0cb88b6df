/**
 * A newcomer's first hour, as they would live it: `npm start` in a fresh copy
 * of the project with no .env prints sandbox commands that answer as
 * promised, and `npm run deploy` refuses .env.example's placeholders without
 * touching the network.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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

describe('npm start with an account in the env file', () => {
  test('a mistyped ACCOUNT_SID is real mode, not the sandbox: it says so, and the functions answer 500 naming the setting', async () => {
    const envFile = join(mkdtempSync(join(tmpdir(), 'typo-env-')), 'typo.env');
    writeFileSync(
      envFile,
      'ACCOUNT_SID=AC123\nAUTH_TOKEN=0123456789abcdef0123456789ABCDEF\nTWILIO_FLEX_WORKSPACE_SID=WS' + 'b2'.repeat(16) + '\n',
    );
    const port = await freePort();
    const server = spawn(
      'node',
      [join(PROJECT_ROOT, 'scripts', 'run-ts.mjs'), 'scripts/start.ts', '--port', String(port), '--env', envFile],
      {
        cwd: PROJECT_ROOT,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    server.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      let answer: Response | undefined;
      for (let waited = 0; answer === undefined && waited < 60_000; waited += 250) {
        answer = await fetch(`http://localhost:${port}/transfer-to-queue`, { method: 'POST', body: new URLSearchParams({ x: '1' }) }).catch(
          () => undefined,
        );
        if (answer === undefined) await new Promise((resolveWait) => setTimeout(resolveWait, 250));
      }
      expect(output).toContain('Calling Twilio');
      expect(output).not.toContain('SANDBOX');
      expect(answer?.status).toBe(500);
      const body = (await answer?.json()) as { error: { code: string; message: string } };
      expect(body.error).toMatchObject({ code: 'misconfigured', message: expect.stringContaining('ACCOUNT_SID') });
      expect(body.error.message).not.toContain('AC123');
    } finally {
      if (server.pid !== undefined) process.kill(-server.pid, 'SIGTERM');
    }
  }, 90_000);
});
