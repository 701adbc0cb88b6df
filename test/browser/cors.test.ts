/**
 * The example Flex plugin client in a real browser (headless Chromium): a page
 * on one local origin calls the functions (twilio-run on dist/, Twilio
 * stand-in behind it) on another. A counting proxy in front of twilio-run
 * shows what actually reached the functions: the client's requests must be
 * CORS simple requests, so no OPTIONS preflight ever arrives.
 */
import { CHROMIUM, launchHeadlessChromium } from '../support/chromium';
import { build } from 'esbuild';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import type * as TransferClientModule from '../../examples/flex-plugin/transfer-client';
import { PROJECT_ROOT } from '../support/functions-server';
import { transferSids, useFunctions } from '../support/harness';
import { grantAgentToken } from '../support/in-process';

const CLIENT_SOURCE = join(PROJECT_ROOT, 'examples', 'flex-plugin', 'transfer-client.ts');
/** The name the bundle gives the client module on the page's global object. */
const BUNDLE_GLOBAL = 'TransferClientModule';

interface Exchange {
  method: string;
  path: string;
  origin: string | undefined;
  /** Filled in when the functions answer. */
  status?: number;
  responseHeaders: IncomingHttpHeaders;
}

async function listenOnLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

async function close(server: Server | undefined): Promise<void> {
  if (server === undefined) return;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

/** The example client compiled for a browser, exposing its exports as `globalThis.TransferClientModule`. */
async function bundleClient(): Promise<string> {
  const result = await build({
    entryPoints: [CLIENT_SOURCE],
    bundle: true,
    format: 'iife',
    globalName: BUNDLE_GLOBAL,
    platform: 'browser',
    target: 'es2020',
    write: false,
    logLevel: 'silent',
  });
  const [output] = result.outputFiles;
  if (output === undefined) throw new Error('esbuild produced no bundle');
  return output.text;
}

/** The "plugin" origin: a blank page that loads the client bundle. */
function pageServer(bundle: string): Server {
  return createServer((request, response) => {
    if (request.url === '/transfer-client.js') {
      response.writeHead(200, { 'Content-Type': 'text/javascript' }).end(bundle);
    } else if (request.url === '/') {
      response
        .writeHead(200, { 'Content-Type': 'text/html' })
        .end('<!doctype html><title>plugin</title><script src="/transfer-client.js"></script>');
    } else {
      response.writeHead(404).end();
    }
  });
}

/** Forwards everything to the functions and records each exchange, on arrival, as the functions saw and answered it. */
function countingProxy(functionsUrl: string, exchanges: Exchange[]): Server {
  const target = new URL(functionsUrl);
  return createServer((incoming, outgoing) => {
    const exchange: Exchange = {
      method: incoming.method ?? '',
      path: incoming.url ?? '',
      origin: incoming.headers.origin,
      responseHeaders: {},
    };
    exchanges.push(exchange);
    const forwarded = httpRequest(
      { hostname: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (answer) => {
        exchange.status = answer.statusCode;
        exchange.responseHeaders = answer.headers;
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
}

/** What a page-side call hands back to the test: errors do not cross `evaluate`, so they become plain data. */
type PageCallResult =
  | { ok: true; value: TransferClientModule.TransferOutcome }
  | { ok: false; name: string; code?: string; status?: number; retryAfterSeconds?: number; requestId?: string; message: string };

interface PageCall {
  baseUrl: string;
  token: string;
  request: TransferClientModule.QueueTransferRequest;
  options?: Pick<TransferClientModule.TransferClientOptions, 'sendTokenAs' | 'budgetMs'>;
  call?: { idempotencyKey?: string };
}

/** Runs one transferToQueue inside the page, with the bundle the page loaded. */
function callInPage(page: Page, pageCall: PageCall): Promise<PageCallResult> {
  return page.evaluate(
    async ({ pageCall: { baseUrl, token, request, options, call }, bundleGlobal }) => {
      const loaded = (globalThis as unknown as Record<string, typeof TransferClientModule>)[bundleGlobal];
      if (loaded === undefined) throw new Error('the client bundle did not load');
      const client = new loaded.TransferClient({ baseUrl, token, ...options });
      try {
        return { ok: true as const, value: await client.transferToQueue(request, call) };
      } catch (thrown) {
        const error = thrown as TransferClientModule.TransferError;
        return {
          ok: false as const,
          name: error.name,
          code: error.code,
          status: error.status,
          retryAfterSeconds: error.retryAfterSeconds,
          requestId: error.requestId,
          message: String(error.message),
        };
      }
    },
    { pageCall, bundleGlobal: BUNDLE_GLOBAL },
  );
}

const singleHeader = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
};

if (!existsSync(CHROMIUM) && !process.env.CI) {
  test.skip(`browser CORS test: ${CHROMIUM} is absent (apt-get install chromium); it always runs under CI`, () => undefined);
} else {
  describe('the example client in headless Chromium, from another origin', () => {
    const exchanges: Exchange[] = [];
    // Filled in before useFunctions' own beforeAll reads it: the allowed origin is the page server's, known only once it listens.
    const settings: Record<string, string> = {};
    let plugin: Server | undefined;
    let pageOrigin = '';
    beforeAll(async () => {
      plugin = pageServer(await bundleClient());
      pageOrigin = `http://127.0.0.1:${await listenOnLoopback(plugin)}`;
      settings.TRANSFER_ALLOWED_ORIGINS = pageOrigin;
    });

    const harness = useFunctions({ settings, forkPerRequest: false });

    let proxy: Server | undefined;
    let functionsUrl = '';
    let userDataDir = '';
    let browser: BrowserContext | undefined;
    let page: Page;
    beforeAll(async () => {
      proxy = countingProxy(harness.server.url, exchanges);
      functionsUrl = `http://127.0.0.1:${await listenOnLoopback(proxy)}`;
      userDataDir = mkdtempSync(join(tmpdir(), 'transfer-chromium-'));
      browser = await launchHeadlessChromium(userDataDir);
      page = await browser.newPage();
      await page.goto(pageOrigin + '/');
      await page.waitForFunction((name) => name in globalThis, BUNDLE_GLOBAL);
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      if (userDataDir !== '') rmSync(userDataDir, { recursive: true, force: true });
      await close(proxy);
      await close(plugin);
    });

    beforeEach(() => {
      exchanges.length = 0;
    });

    /** A signed-in agent and a queue transfer of a conversation they take part in (a plain agent may transfer only such a one). */
    const agentWithConversation = () => {
      const { token, workerSid } = grantAgentToken(harness.standin);
      const { interactionSid, channelSid, queueSid } = transferSids(harness.standin);
      const participantSid = 'UT' + randomBytes(16).toString('hex');
      harness.standin.setParticipants(interactionSid, channelSid, [{ sid: participantSid, routing_properties: { worker_sid: workerSid } }]);
      return { token, request: { interactionSid, channelSid, queueSid } };
    };

    test('the page and the functions are different origins', () => {
      expect(new URL(pageOrigin).origin).not.toBe(new URL(functionsUrl).origin);
    });

    test('a transfer gets its 201 and readable body, and no preflight reaches the functions', async () => {
      const { token, request } = agentWithConversation();

      const result = await callInPage(page, { baseUrl: functionsUrl, token, request });

      // A readable body proves the browser accepted Access-Control-Allow-Origin.
      expect(result).toEqual({
        ok: true,
        value: expect.objectContaining({
          inviteSid: expect.stringMatching(/^KG/),
          target: { type: 'queue', sid: request.queueSid },
          replayed: false,
        }),
      });
      expect(exchanges.map(({ method, path, origin, status }) => ({ method, path, origin, status }))).toEqual([
        { method: 'POST', path: '/transfer-to-queue', origin: pageOrigin, status: 201 },
      ]);
      expect(singleHeader(exchanges[0]?.responseHeaders ?? {}, 'access-control-allow-origin')).toBe(pageOrigin);
      expect(harness.standin.requestsTo('token-validate')[0]?.json).toMatchObject({ token });
    });

    test('headers the functions send are readable by the page where the contract exposes them', async () => {
      const { token, request } = agentWithConversation();
      // A Retry-After longer than the functions' deadline: they pass Twilio's 429 on.
      harness.standin.script('invite-create', { status: 429, headers: { 'Retry-After': '30' } });

      const result = await callInPage(page, { baseUrl: functionsUrl, token, request });

      expect(result).toMatchObject({ ok: false, name: 'TransferError', code: 'rate_limited', status: 429 });
      expect(exchanges.filter((exchange) => exchange.method === 'OPTIONS')).toEqual([]);
      const sent = exchanges[0]?.responseHeaders ?? {};
      const retryAfter = singleHeader(sent, 'retry-after');
      const requestId = singleHeader(sent, 'x-request-id');
      expect(retryAfter).toBeDefined();
      expect(requestId).toBeDefined();
      expect(result).toMatchObject({ retryAfterSeconds: Number(retryAfter), requestId });
    });

    test('a repeat with the same key is the first answer, and the page sees it marked as a replay', async () => {
      const { token, request } = agentWithConversation();
      const key = `browser-test-${Date.now()}`;
      const call = { baseUrl: functionsUrl, token, request, call: { idempotencyKey: key } };

      const first = await callInPage(page, call);
      const second = await callInPage(page, call);

      if (!first.ok) throw new Error(`the first transfer failed: ${first.message}`);
      expect(first.value.replayed).toBe(false);
      expect(second).toEqual({ ok: true, value: { ...first.value, replayed: true } });
      expect(exchanges.map((exchange) => exchange.method)).toEqual(['POST', 'POST']);
      expect(singleHeader(exchanges[1]?.responseHeaders ?? {}, 'idempotent-replayed')).toBe('true');
      expect(harness.standin.requestsTo('invite-create')).toHaveLength(1);
    });

    test('an origin that is not allowed gets no readable answer', async () => {
      const { token, request } = agentWithConversation();
      const otherPage = await browser?.newPage();
      if (otherPage === undefined) throw new Error('no browser');
      try {
        // Same server, another origin: localhost is not 127.0.0.1.
        const otherOrigin = pageOrigin.replace('127.0.0.1', 'localhost');
        await otherPage.goto(otherOrigin + '/');

        // One plain fetch, the client's request shape without its retries: what the browser itself lets the page see.
        const seen = await otherPage.evaluate(
          async ({ url, fields }) => {
            try {
              const response = await fetch(url, { method: 'POST', body: new URLSearchParams(fields) });
              return { readable: true, status: response.status };
            } catch (thrown) {
              return { readable: false, error: String(thrown) };
            }
          },
          { url: functionsUrl + '/transfer-to-queue', fields: { ...request, Token: token, idempotencyKey: `refused-${Date.now()}` } },
        );

        expect(seen).toEqual({ readable: false, error: expect.stringMatching(/TypeError/) });
        expect(exchanges).toHaveLength(1);
        expect(exchanges[0]).toMatchObject({ method: 'POST', origin: otherOrigin, status: expect.any(Number) });
        expect(singleHeader(exchanges[0]?.responseHeaders ?? {}, 'access-control-allow-origin')).toBeUndefined();
      } finally {
        await otherPage.close();
      }
    });

    test('control: the opt-in Bearer header does make the browser send a preflight', async () => {
      const { token, request } = agentWithConversation();
      await callInPage(page, {
        baseUrl: functionsUrl,
        token,
        request,
        options: { sendTokenAs: 'bearer', budgetMs: 800 },
      });
      expect(exchanges[0]).toMatchObject({ method: 'OPTIONS', path: '/transfer-to-queue', origin: pageOrigin });
    });
  });
}
