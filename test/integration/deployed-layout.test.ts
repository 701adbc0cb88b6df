/**
 * Deployed Twilio Functions live in one flat folder under generated names
 * (/var/task/handlers/ZN….js), with only `dependencies` installed beside them.
 * The built files must work there, not only under twilio-run.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import {
  baseSettings,
  PROJECT_ROOT,
  REDIRECT_PRELOAD,
  TEST_ACCOUNT_SID,
  TEST_AUTH_TOKEN,
  TEST_WORKSPACE_SID,
} from '../support/functions-server';
import { newSid, TwilioStandin } from '../support/twilio-standin';

const DIST_FUNCTIONS = join(PROJECT_ROOT, 'dist', 'functions');

interface RunnerResult {
  function: string;
  loadedFrom: string;
  statusCode: number;
  headers: Record<string, unknown>;
  body: Record<string, unknown>;
}

/** Runs the deployed-layout runner in a child process (asynchronously: the stand-in lives in this process). */
async function runDeployed(standinUrl: string, calls: { function: string; event: Record<string, unknown> }[]): Promise<RunnerResult[]> {
  const child = spawn(process.execPath, ['--require', REDIRECT_PRELOAD, join(PROJECT_ROOT, 'test', 'support', 'deployed-runner.cjs')], {
    env: { ...process.env, TWILIO_STANDIN_URL: standinUrl },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(JSON.stringify({ settings: baseSettings(), calls }));
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (exitCode !== 0) throw new Error(`deployed runner failed: ${stderr}`);
  const resultLine = stdout.split('\n').find((line) => line.startsWith('RESULT '));
  return (JSON.parse(resultLine?.slice('RESULT '.length) ?? '{}') as { results: RunnerResult[] }).results;
}

describe('the built functions in a deployed layout', () => {
  let standin: TwilioStandin;

  beforeAll(async () => {
    standin = await new TwilioStandin(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN).start();
  });
  afterAll(() => standin.stop());

  test('served from a flat folder under generated names, both functions transfer correctly', async () => {
    const token = 'eyJ.deployed.token';
    const workerSid = newSid('WK');
    standin.grantToken(token, { worker_sid: workerSid, roles: ['agent'] });
    const agent = { interactionSid: newSid('KD'), channelSid: newSid('UO'), workerSid: newSid('WK') };
    const queue = { interactionSid: newSid('KD'), channelSid: newSid('UO'), queueSid: newSid('WQ') };
    // As a deployed Function sees it: no Host (a restricted header), Bearer token in Authorization.
    const request = { headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, cookies: {} };

    const results = await runDeployed(standin.url, [
      { function: 'transfer-to-agent', event: { request, ...agent } },
      { function: 'transfer-to-queue', event: { request, ...queue } },
      { function: 'transfer-to-queue', event: { request, interactionSid: 'nope' } },
    ]);

    expect(results.map((result) => result.loadedFrom.split('/').slice(-2).join('/'))).toEqual([
      expect.stringMatching(/^handlers\/ZN[0-9a-f]{32}\.js$/),
      expect.stringMatching(/^handlers\/ZN[0-9a-f]{32}\.js$/),
      expect.stringMatching(/^handlers\/ZN[0-9a-f]{32}\.js$/),
    ]);
    expect(results[0]).toMatchObject({ statusCode: 201, body: { target: { type: 'worker', sid: agent.workerSid } } });
    expect(results[1]).toMatchObject({ statusCode: 201, body: { target: { type: 'queue', sid: queue.queueSid } } });
    expect(results[2]).toMatchObject({ statusCode: 400, body: { error: { code: 'invalid_request' } } });
    expect(results[0]?.headers['Content-Type']).toBe('application/json');

    const invites = standin.requestsTo('invite');
    expect(invites.map((invite) => invite.routing?.properties.workspace_sid)).toEqual([TEST_WORKSPACE_SID, TEST_WORKSPACE_SID]);
    expect(invites[0]?.routing?.properties.attributes).toMatchObject({ transferredByWorkerSid: workerSid });
  });

  test('built files require nothing but Node built-ins and production dependencies', () => {
    const dependencies = Object.keys(JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')).dependencies as object);
    const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
    const files = readdirSync(DIST_FUNCTIONS).filter((file) => file.endsWith('.js'));
    expect(files.sort()).toEqual(['transfer-to-agent.js', 'transfer-to-queue.js']);
    for (const file of files) {
      const source = readFileSync(join(DIST_FUNCTIONS, file), 'utf8');
      const required = [...source.matchAll(/require\(["']([^"']+)["']\)/g)].map((match) => match[1] as string);
      expect(required.length).toBeGreaterThan(0);
      for (const name of required) {
        const isDependency = dependencies.some((dependency) => name === dependency || name.startsWith(`${dependency}/`));
        expect({ file, name, allowed: builtins.has(name) || isDependency }).toEqual({ file, name, allowed: true });
      }
    }
  });
});
