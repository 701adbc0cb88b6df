/**
 * Starts the real twilio-run server on the built output (dist/), with an env
 * file that preloads the *.twilio.com redirect into every function process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { baseSettings } from './fixtures';

export const PROJECT_ROOT = resolve(__dirname, '..', '..');
export const REDIRECT_PRELOAD = join(PROJECT_ROOT, 'dev', 'redirect-twilio.cjs');

// The stand-in's account, written once in fixtures.ts; exported here too for the suites that start a server.
export { baseSettings, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_WORKSPACE_SID } from './fixtures';

export interface FunctionsServer {
  url: string;
  port: number;
  output: () => string;
  stop: () => Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

async function waitForServer(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const startedAt = Date.now();
  while (Date.now() - startedAt < 30_000) {
    if (child.exitCode !== null) throw new Error(`twilio-run exited early:\n${output()}`);
    try {
      await fetch(url + '/transfer-to-queue', { method: 'OPTIONS' });
      return;
    } catch {
      await new Promise((resolveWait) => setTimeout(resolveWait, 100));
    }
  }
  throw new Error(`twilio-run did not start in 30 s:\n${output()}`);
}

export interface StartOptions {
  standinUrl: string;
  /** Settings written to the env file; ACCOUNT_SID, AUTH_TOKEN and TWILIO_FLEX_WORKSPACE_SID default to test values. */
  settings?: Record<string, string | undefined>;
  /**
   * false keeps one warm function process (`--no-fork-process --no-live`), as a
   * deployed instance does between requests; true forks one per request (twilio-run's default).
   */
  forkPerRequest?: boolean;
}

export async function startFunctionsServer(options: StartOptions): Promise<FunctionsServer> {
  const port = await freePort();
  const envDir = mkdtempSync(join(tmpdir(), 'transfer-env-'));
  const envFile = join(envDir, '.env');
  const settings: Record<string, string | undefined> = { ...baseSettings(), ...options.settings };
  const preload = {
    NODE_OPTIONS: `--require ${REDIRECT_PRELOAD}`,
    TWILIO_STANDIN_URL: options.standinUrl,
  };
  const lines = Object.entries({ ...settings, ...preload })
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `${name}=${value}`);
  writeFileSync(envFile, lines.join('\n') + '\n');

  const args = [
    join(PROJECT_ROOT, 'node_modules', 'twilio-run', 'bin', 'twilio-run.js'),
    'start',
    '--port',
    String(port),
    '--env',
    envFile,
  ];
  if (options.forkPerRequest === false) args.push('--no-fork-process', '--no-live');
  const child = spawn(process.execPath, args, {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...preload, FORCE_COLOR: '0', CI: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));

  const url = `http://localhost:${port}`;
  await waitForServer(url, child, () => output);
  return {
    url,
    port,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
