/**
 * Where a transfer's own time goes: micro-timings of the steps a warm transfer
 * repeats on every request, measured in isolation (no network, or loopback
 * only). A companion to bench/bench.ts, for deciding what is worth changing.
 *
 *   npm run build && node scripts/run-ts.mjs bench/breakdown.ts
 *
 * Each line is the median of 7 batches of the mean time per operation, in
 * microseconds. Shared machine: treat differences under ~20% as noise.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Twilio } from 'twilio';
import { parseSettings, readSettings, type Environment } from '../src/lib/config';
import { tokenCacheKey } from '../src/lib/auth/flex-token';
import { readIncomingRequest } from '../src/lib/incoming';
import { buildRouting } from '../src/lib/routing';
import { parseTransferRequest } from '../src/lib/transfer-request';
import { toRuntimeResponse } from '../src/lib/respond';
import { baseSettings } from '../test/support/functions-server';
import { newSid } from '../test/support/twilio-standin';

const ROOT = resolve(process.env.RUN_TS_PROJECT_ROOT ?? process.cwd());
const requireFromRoot = createRequire(join(ROOT, 'package.json'));

interface DeployedRuntime {
  installRuntimeGlobals(functions: object): void;
  makeContext(settings: Record<string, string>, options: { path: string }): { getTwilioClient(options?: object): unknown };
}

const rows: [string, number, string][] = [];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function time(name: string, operation: () => unknown, perBatch: number, note = ''): Promise<number> {
  for (let i = 0; i < Math.min(perBatch, 200); i += 1) await operation();
  const batches: number[] = [];
  for (let batch = 0; batch < 7; batch += 1) {
    const start = performance.now();
    for (let i = 0; i < perBatch; i += 1) await operation();
    batches.push(((performance.now() - start) / perBatch) * 1000);
  }
  const microseconds = median(batches);
  rows.push([name, microseconds, note]);
  return microseconds;
}

async function main(): Promise<void> {
  const runtime = requireFromRoot(join(ROOT, 'test', 'support', 'deployed-runtime.cjs')) as DeployedRuntime;
  runtime.installRuntimeGlobals({});
  const settings = baseSettings();
  const env = settings as Environment;
  const twilio = requireFromRoot('twilio') as typeof import('twilio');

  // ---- request handling that needs no network
  await time('readSettings (memo hit: 12-name key)', () => readSettings(env), 20_000);
  await time('parseSettings (what the memo saves)', () => parseSettings(env), 20_000);
  const event = {
    request: {
      headers: { 'content-type': 'application/json', origin: 'https://flex.twilio.com' },
      cookies: {},
    },
    Token: 'bench-token-' + newSid(''),
    interactionSid: newSid('KD'),
    channelSid: newSid('UO'),
    workerSid: newSid('WK'),
  };
  const parsedSettings = readSettings(env);
  await time(
    'readIncomingRequest + parseTransferRequest + buildRouting',
    () => {
      const incoming = readIncomingRequest(event, 'example.twil.io', '/transfer-to-agent');
      const transfer = parseTransferRequest(incoming.params, 'worker', parsedSettings);
      return buildRouting(transfer, { kind: 'flex-token', workerSid: newSid('WK'), roles: ['agent'] }, parsedSettings);
    },
    20_000,
  );
  await time('tokenCacheKey (sha256 of the token)', () => tokenCacheKey(event.Token), 20_000);
  await time(
    'request log line (randomUUID + JSON.stringify)',
    () =>
      JSON.stringify({
        requestId: randomUUID(),
        function: 'transfer-to-agent',
        status: 201,
        outcome: 'transferred',
        callerKind: 'flex-token',
        upstreamAttempts: 1,
        durationMs: 25,
      }),
    20_000,
  );
  const incoming = readIncomingRequest(event, 'example.twil.io', '/transfer-to-agent');
  await time(
    'toRuntimeResponse (Twilio.Response)',
    () => toRuntimeResponse({ status: 201, body: { ok: true }, headers: {} }, incoming, parsedSettings.allowedOrigins),
    20_000,
  );

  // ---- the helper library, without network: an httpClient that answers at once
  const inviteAnswer = {
    statusCode: 201,
    headers: {},
    body: JSON.stringify({
      sid: newSid('KG'),
      interaction_sid: event.interactionSid,
      channel_sid: event.channelSid,
      routing: { properties: { sid: newSid('WT') } },
      url: 'https://flex-api.twilio.com/v1/x',
    }),
  };
  const instantHttpClient = { request: () => Promise.resolve(inviteAnswer) };
  const routing = { properties: { workspace_sid: settings.TWILIO_FLEX_WORKSPACE_SID, attributes: { transferType: 'warm' } } };
  const context = runtime.makeContext(settings, { path: '/transfer-to-agent' });
  await time(
    'context.getTwilioClient() (harness: require + new client)',
    () => context.getTwilioClient({ httpClient: instantHttpClient }),
    20_000,
  );
  await time(
    'twilio(sid, token, {lazyLoading}) (new client only)',
    () =>
      twilio(settings.ACCOUNT_SID as string, settings.AUTH_TOKEN as string, { lazyLoading: true, httpClient: instantHttpClient as never }),
    20_000,
  );
  const invite = (client: Twilio) =>
    client.flexApi.v1.interaction(event.interactionSid).channels(event.channelSid).invites.create({ routing });
  await time(
    'invites.create on a NEW client each time (as today)',
    () =>
      invite(
        twilio(settings.ACCOUNT_SID as string, settings.AUTH_TOKEN as string, {
          lazyLoading: true,
          httpClient: instantHttpClient as never,
        }),
      ),
    5_000,
    'client + flexApi/v1 domain objects + request build + answer parse',
  );
  const reused = twilio(settings.ACCOUNT_SID as string, settings.AUTH_TOKEN as string, {
    lazyLoading: true,
    httpClient: instantHttpClient as never,
  });
  await time('invites.create on a REUSED client', () => invite(reused), 5_000);

  // ---- one HTTP exchange on loopback, server answering at once
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(201, { 'Content-Type': 'application/json' });
      response.end(inviteAnswer.body);
    });
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const port = (server.address() as AddressInfo).port;
  const keepAliveAgent = new http.Agent({ keepAlive: true });
  const bare = (agent: http.Agent | false) => () =>
    new Promise<void>((resolveExchange, reject) => {
      const sent = http.request({ hostname: '127.0.0.1', port, method: 'POST', path: '/v1/x', agent }, (response) => {
        response.resume();
        response.on('end', resolveExchange);
      });
      sent.on('error', reject);
      sent.end('Routing=%7B%7D');
    });
  const bareNew = await time('bare http.request, new connection (agent: false)', bare(false), 1_000);
  const bareKeep = await time('bare http.request, keep-alive agent', bare(keepAliveAgent), 1_000);
  const requestClient = new twilio.RequestClient({ timeout: 10_000 });
  const viaRequestClient = (forever: boolean) => () =>
    requestClient.request({
      method: 'post',
      uri: `http://127.0.0.1:${port}/v1/x`,
      username: settings.ACCOUNT_SID,
      password: settings.AUTH_TOKEN,
      data: { Routing: JSON.stringify(routing) },
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      timeout: 7000,
      forever,
    } as never);
  // Without `forever`, RequestClient sends `Connection: close`: a new connection per request whatever the agent.
  const helperNew = await time('twilio RequestClient.request (as used today: Connection: close)', viaRequestClient(false), 1_000);
  // With `forever: true` on an http:// URL, axios uses http.globalAgent (keep-alive in Node >= 20).
  const helperKeep = await time('twilio RequestClient.request with forever: true (keep-alive)', viaRequestClient(true), 1_000);
  rows.push(['  -> axios/RequestClient cost per request (vs bare, new connection)', helperNew - bareNew, '']);
  rows.push(['  -> axios/RequestClient cost per request (vs bare, keep-alive)', helperKeep - bareKeep, '']);
  rows.push(['  -> new TCP connection cost on loopback (bare agent:false vs keep-alive)', bareNew - bareKeep, '']);
  keepAliveAgent.destroy();
  await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
  http.globalAgent.destroy();

  const width = Math.max(...rows.map(([name]) => name.length));
  console.log(`breakdown (µs per operation, median of 7 batches), node ${process.version}`);
  for (const [name, microseconds, note] of rows) console.log(`${name.padEnd(width)}  ${microseconds.toFixed(1).padStart(8)}  ${note}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
