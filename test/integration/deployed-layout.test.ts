/**
 * Deployed Twilio Functions live in one flat folder under generated names
 * (/var/task/handlers/ZN….js), with only `dependencies` installed beside them.
 * The built files must work there, not only under twilio-run.
 */
import { getExpectedTwilioSignature } from 'twilio';
import { sealTransferClose } from '../../src/core/transfer-close';
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
import { newSid, TwilioStandin } from '../../dev/twilio-standin';
import { seedSettings } from '../support/harness';
import { grantAgentToken } from '../support/in-process';
import { FUNCTION_NAMES, type FunctionName } from '../../src/registry';

const DIST_FUNCTIONS = join(PROJECT_ROOT, 'dist', 'functions');

interface RunnerResult {
  function: string;
  loadedFrom: string;
  statusCode: number;
  headers: Record<string, unknown>;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary response bodies
}

interface RunnerOutput {
  results: RunnerResult[];
  /** How often the functions called context.getTwilioClient(). */
  twilioClientCalls: number;
}

/** Runs the deployed-layout runner in a child process (asynchronously: the stand-in lives in this process). */
async function runDeployed(
  standinUrl: string,
  calls: { function: FunctionName; event: Record<string, unknown> }[],
  context: { twilioClient?: 'per-call' | 'shared' } = {},
): Promise<RunnerOutput> {
  const child = spawn(process.execPath, ['--require', REDIRECT_PRELOAD, join(PROJECT_ROOT, 'test', 'support', 'deployed-runner.cjs')], {
    env: { ...process.env, TWILIO_STANDIN_URL: standinUrl },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(JSON.stringify({ settings: baseSettings(), context, calls }));
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (exitCode !== 0) throw new Error(`deployed runner failed: ${stderr}`);
  const resultLine = stdout.split('\n').find((line) => line.startsWith('RESULT '));
  if (resultLine === undefined) throw new Error(`deployed runner printed no result:\n${stdout}\n${stderr}`);
  return JSON.parse(resultLine.slice('RESULT '.length)) as RunnerOutput;
}

const GENERATED_NAME = /^handlers\/ZN[0-9a-f]{32}\.js$/;

describe('the built functions in a deployed layout', () => {
  let standin: TwilioStandin;

  beforeAll(async () => {
    standin = await new TwilioStandin(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN).start();
  });
  afterAll(() => standin.stop());
  beforeEach(() => {
    standin.reset();
    seedSettings(standin, baseSettings());
  });

  test.each(['per-call', 'shared'] as const)(
    'served from a flat folder under generated names, all five functions work (getTwilioClient: %s, never called)',
    async (twilioClient) => {
      const { token, workerSid } = grantAgentToken(standin, ['agent']);
      const joined = () => {
        const channel = { interactionSid: newSid('KD'), channelSid: newSid('UO') };
        const agentTask = standin.addTask({ workspaceSid: TEST_WORKSPACE_SID, assignmentStatus: 'assigned' });
        standin.setParticipants(channel.interactionSid, channel.channelSid, [
          { sid: newSid('UT'), type: 'agent', routing_properties: { worker_sid: workerSid, task_sid: agentTask } },
        ]);
        return channel;
      };
      const agent = { ...joined(), workerSid: standin.addWorker(), queueSid: standin.addQueue() };
      const queue = { ...joined(), queueSid: standin.addQueue() };
      const pending = joined();
      const seeded = standin.addInvite(pending.interactionSid, pending.channelSid, {
        workspace_sid: TEST_WORKSPACE_SID,
        queue_sid: newSid('WQ'),
        attributes: {
          transferTargetType: 'queue',
          transferTargetSid: newSid('WQ'),
          transferType: 'warm',
          transferredByWorkerSid: workerSid,
        },
      });
      const seededTask = seeded.routing.properties.sid as string;
      // TaskRouter's event of an accepted cold transfer, signed as TaskRouter signs it, naming the agent to close.
      const closing = joined();
      const [closingAgent] = standin.participants(closing.interactionSid, closing.channelSid) ?? [];
      const transferClose = sealTransferClose({ ...closing, participantSid: closingAgent?.sid ?? '', status: 'closed' }, TEST_AUTH_TOKEN);
      const acceptedEvent = {
        EventType: 'reservation.accepted',
        AccountSid: TEST_ACCOUNT_SID,
        WorkspaceSid: TEST_WORKSPACE_SID,
        // The task a cold transfer's invite created on that channel (a seal on any other task is not acted on).
        TaskSid: standin.addInvite(closing.interactionSid, closing.channelSid, {
          workspace_sid: TEST_WORKSPACE_SID,
          attributes: { transferTargetType: 'queue', transferTargetSid: newSid('WQ'), transferType: 'cold', transferClose },
        }).routing.properties.sid as string,
        TaskAttributes: JSON.stringify({ transferType: 'cold', transferClose }),
      };
      const signed = {
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': getExpectedTwilioSignature(TEST_AUTH_TOKEN, 'https://example-1234.twil.io/transfer-events', acceptedEvent),
        },
      };
      // As a deployed Function sees it: no Host (a restricted header), Bearer token in Authorization.
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
      const withCookies = { headers, cookies: {} };
      // Older runtimes pass no cookies at all: the headers still authenticate.
      const withoutCookies = { headers };

      const { results, twilioClientCalls } = await runDeployed(
        standin.url,
        [
          { function: 'transfer-to-agent', event: { request: withoutCookies, ...agent } },
          { function: 'transfer-to-queue', event: { request: withCookies, ...queue } },
          { function: 'transfer-to-queue', event: { request: withCookies, ...queue, priority: '3' } },
          { function: 'transfer-to-queue', event: { request: withCookies, interactionSid: 'nope' } },
          { function: 'list-transfers', event: { request: withoutCookies, ...pending } },
          { function: 'cancel-transfer', event: { request: withoutCookies, ...pending, taskSid: seededTask } },
          { function: 'transfer-events', event: { request: signed, ...acceptedEvent } },
        ],
        { twilioClient },
      );

      expect(results.map((result) => result.loadedFrom.split('/').slice(-2).join('/'))).toEqual(
        results.map(() => expect.stringMatching(GENERATED_NAME)),
      );
      expect(new Set(results.map((result) => result.loadedFrom)).size).toBe(5);
      expect(results.map((result) => result.statusCode)).toEqual([201, 201, 201, 400, 200, 200, 204]);
      expect(results[0]?.body).toMatchObject({ target: { type: 'worker', sid: agent.workerSid } });
      expect(results[1]?.body).toMatchObject({ target: { type: 'queue', sid: queue.queueSid } });
      expect(results[3]?.body).toMatchObject({ error: { code: 'invalid_request' } });
      expect(results[4]?.body.transfers).toEqual([expect.objectContaining({ inviteSid: seeded.sid, taskSid: seededTask })]);
      expect(results[5]?.body).toEqual({ taskSid: seededTask, canceled: true });
      expect(standin.participants(closing.interactionSid, closing.channelSid)?.[0]?.status).toBe('closed');
      for (const result of results) {
        expect(result.headers['Content-Type']).toBe('application/json');
        expect(result.headers['X-Request-Id']).toEqual(expect.any(String));
      }

      // What Twilio saw: the functions' own client, with this function's credentials, never the runtime's.
      expect(twilioClientCalls).toBe(0);
      const invites = standin.requestsTo('invite-create');
      expect(invites.map((invite) => invite.routing?.properties.workspace_sid)).toEqual([
        TEST_WORKSPACE_SID,
        TEST_WORKSPACE_SID,
        TEST_WORKSPACE_SID,
      ]);
      expect(invites[0]?.routing?.properties.attributes).toMatchObject({ transferredByWorkerSid: workerSid });
      expect(invites[2]?.routing?.properties.priority).toBe(3);
      expect(standin.requestsTo('participant-list').length).toBeGreaterThanOrEqual(5);
      expect(standin.task(seededTask)).toMatchObject({ assignment_status: 'canceled', reason: 'Transfer canceled' });
      expect(standin.requestsTo('task-update')[0]?.headers['if-match']).toBe('0');
    },
    30_000,
  );

  test('built files require nothing but Node built-ins and production dependencies, and not the old token validator', () => {
    const dependencies = Object.keys(JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')).dependencies as object);
    const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
    const files = readdirSync(DIST_FUNCTIONS).filter((file) => file.endsWith('.js'));
    expect(files.sort()).toEqual(FUNCTION_NAMES.map((name) => `${name}.js`).sort());
    for (const file of files) {
      const source = readFileSync(join(DIST_FUNCTIONS, file), 'utf8');
      const required = [...source.matchAll(/require\(["']([^"']+)["']\)/g)].map((match) => match[1] as string);
      expect(required.length).toBeGreaterThan(0);
      for (const name of required) {
        const isDependency = dependencies.some((dependency) => name === dependency || name.startsWith(`${dependency}/`));
        expect({ file, name, allowed: builtins.has(name) || isDependency }).toEqual({ file, name, allowed: true });
      }
      // Token validation goes through the same transport as every other Twilio call.
      expect({ file, requiresValidator: required.some((name) => name.startsWith('twilio-flex-token-validator')) }).toEqual({
        file,
        requiresValidator: false,
      });
    }
  });
});
