/**
 * The built Flex plugin (flex-plugin/build/plugin-conversation-transfers.js, the file `twilio flex:plugins:deploy`
 * uploads) in headless Chromium, under the real Flex UI runtime: @twilio/flex-ui 2.17.1 from flex-plugin/node_modules,
 * bundled for the browser by esbuild (nothing is downloaded). No Flex account exists here, so Flex's Manager is never
 * created (no login, no TaskRouter worker, no Flex UI rendered): the test calls the plugin's init with the real
 * `Twilio.Flex` module and a manager object holding what the plugin reads (`user.token`, the store's
 * `flex.featureFlags.transfersConfig`). From there everything is real: Flex's Actions framework runs the replaced
 * TransferTask and the WrapupTask before-listener, Flex's Notifications framework shows the registered notifications,
 * Flex's TaskContext feeds the pending view rendered by React in the page, and the page calls the functions (twilio-run
 * on dist/, Twilio stand-in behind it) cross-origin.
 *
 * Needs `bash flex-plugin/ci.sh` first (it installs the plugin's packages and builds the bundle with
 * FLEX_APP_TRANSFER_FUNCTIONS_URL=http://localhost:3001, which this test points at its own functions).
 */
import { CHROMIUM, launchHeadlessChromium } from '../../test/support/chromium';
import { assignedTaskOf } from '../../test/support/fixtures';
import { build } from 'esbuild';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { PROJECT_ROOT, TEST_WORKSPACE_SID } from '../../test/support/functions-server';
import { transferSids, useFunctions } from '../../test/support/harness';
import { grantAgentToken } from '../../test/support/in-process';

const PLUGIN_DIR = join(PROJECT_ROOT, 'flex-plugin');
const BUNDLE = join(PLUGIN_DIR, 'build', 'plugin-conversation-transfers.js');
const FLEX_UI = join(PLUGIN_DIR, 'node_modules', '@twilio', 'flex-ui', 'package.json');
/** The functions URL ci.sh builds the bundle with (the local default of flex-plugin/.env.example). */
const BUILT_URL = 'http://localhost:3001';

const fakeSid = (prefix: string): string => prefix + randomBytes(16).toString('hex');

const missing = [
  existsSync(CHROMIUM) ? undefined : `${CHROMIUM} (apt-get install chromium)`,
  existsSync(FLEX_UI) ? undefined : 'flex-plugin/node_modules (bash flex-plugin/ci.sh)',
  existsSync(BUNDLE) ? undefined : 'flex-plugin/build (bash flex-plugin/ci.sh)',
].filter((item): item is string => item !== undefined);

/** The real @twilio/flex-ui as a browser script: `window.Twilio.Flex`, and Flex's own React as the page's React. */
async function bundleFlexUi(): Promise<string> {
  const result = await build({
    stdin: {
      contents:
        "window.React = require('react'); window.ReactDOM = require('react-dom'); window.Twilio = { Flex: require('@twilio/flex-ui') };",
      resolveDir: PLUGIN_DIR,
      sourcefile: 'flex-ui-entry.js',
    },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    define: { 'process.env.NODE_ENV': '"production"', global: 'window' },
    // Flex's npm build reads a few `process` fields; its CSS is not needed to run its actions.
    banner: {
      js: "var process = { env: { NODE_ENV: 'production' }, browser: true, version: '', versions: {}, nextTick: (f) => Promise.resolve().then(f) };",
    },
    loader: { '.css': 'empty' },
    write: false,
    logLevel: 'silent',
  });
  const [output] = result.outputFiles;
  if (output === undefined) throw new Error('esbuild produced no Flex UI bundle');
  return output.text;
}

/**
 * The page Flex would be: the real Flex UI, a spy on Flex's plugin loader, then the plugin bundle as Flex loads it.
 * `scripts` is read at each request, so the bundle can be set once the functions' URL is known.
 */
function pageServer(scripts: Record<string, string>): Server {
  const html = [
    '<!doctype html><meta charset="utf-8"><title>Flex</title>',
    '<script src="/flex-ui.js"></script>',
    // Records the plugin class the bundle hands to Flex's loader, then lets Flex's own loader have it.
    '<script>window.loadedPlugins = []; const flexInit = Twilio.Flex.Plugins.init.bind(Twilio.Flex.Plugins);',
    'Twilio.Flex.Plugins.init = (plugin) => { window.loadedPlugins.push(plugin); return flexInit(plugin); };</script>',
    '<script src="/plugin-conversation-transfers.js"></script>',
    '<div id="canvas"></div>',
  ].join('');
  return createServer((request, response) => {
    const script = scripts[request.url ?? ''];
    if (script !== undefined) response.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' }).end(script);
    else if (request.url === '/') response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(html);
    else response.writeHead(404).end();
  });
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/** The Flex task of a conversation, with the methods Flex's own actions would call on it recorded. */
interface PageTask {
  sid: string;
  taskSid: string;
  taskChannelUniqueName: string;
  taskStatus: string;
  attributes: Record<string, string>;
}

if (missing.length > 0 && !process.env.CI) {
  test.skip(`the plugin in Chromium: missing ${missing.join(', ')}; it always runs under CI`, () => undefined);
} else {
  describe('the built plugin in headless Chromium, under the real Flex UI runtime', () => {
    const settings: Record<string, string> = { TRANSFER_WORKFLOW_SID: fakeSid('WW') };
    const scripts: Record<string, string> = {};
    let plugin: Server | undefined;
    let pageOrigin = '';
    // Filled in before useFunctions' own beforeAll reads the settings: the allowed origin is the page server's.
    beforeAll(async () => {
      if (missing.length > 0) throw new Error(`missing ${missing.join(', ')}: run bash flex-plugin/ci.sh before the root tests`);
      scripts['/flex-ui.js'] = await bundleFlexUi();
      plugin = pageServer(scripts);
      pageOrigin = `http://127.0.0.1:${await listen(plugin)}`;
      settings.TRANSFER_ALLOWED_ORIGINS = pageOrigin;
    }, 120_000);

    const harness = useFunctions({ settings, forkPerRequest: false });

    let userDataDir = '';
    let browser: BrowserContext | undefined;
    let page: Page;
    const offPage: string[] = [];
    beforeAll(async () => {
      // The built bundle, its functions URL (compiled in by the plugin tooling) replaced by the harness's.
      const bundle = readFileSync(BUNDLE, 'utf8');
      const occurrences = bundle.split(BUILT_URL).length - 1;
      if (occurrences !== 1)
        throw new Error(`expected the bundle built with ${BUILT_URL} (once), found it ${occurrences} times: see flex-plugin/ci.sh`);
      scripts['/plugin-conversation-transfers.js'] = bundle.replace(BUILT_URL, harness.server.url);

      userDataDir = mkdtempSync(join(tmpdir(), 'plugin-chromium-'));
      browser = await launchHeadlessChromium(userDataDir);
      // Nothing leaves the machine: Flex UI asks for sounds on twiliocdn.com at load; those requests are refused.
      await browser.route('**/*', (route) => {
        const { hostname } = new URL(route.request().url());
        if (hostname === '127.0.0.1' || hostname === 'localhost') return route.continue();
        offPage.push(route.request().url());
        return route.abort();
      });
      page = await browser.newPage();
      await page.goto(pageOrigin + '/');
      await page.waitForFunction(() => (globalThis as unknown as { loadedPlugins: unknown[] }).loadedPlugins.length > 0);
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      if (userDataDir !== '') rmSync(userDataDir, { recursive: true, force: true });
      plugin?.closeAllConnections();
      await new Promise((resolve) => plugin?.close(resolve));
    });

    /** A signed-in agent with a conversation task; the plugin is initialised for them with the real Twilio.Flex. */
    async function agentWithConversation(): Promise<{ task: PageTask; queueSid: string }> {
      const { token, workerSid } = grantAgentToken(harness.standin);
      const sids = transferSids(harness.standin);
      harness.standin.setParticipants(sids.interactionSid, sids.channelSid, [
        { sid: fakeSid('UT'), type: 'customer', routing_properties: null },
        {
          sid: fakeSid('UT'),
          type: 'agent',
          routing_properties: { worker_sid: workerSid, task_sid: assignedTaskOf(harness.standin, sids) },
        },
      ]);
      const attributes = { flexInteractionSid: sids.interactionSid, flexInteractionChannelSid: sids.channelSid };
      const taskSid = harness.standin.addTask({
        workspaceSid: TEST_WORKSPACE_SID,
        taskChannelUniqueName: 'chat',
        assignmentStatus: 'assigned',
        attributes,
      });
      const task = { sid: fakeSid('WR'), taskSid, taskChannelUniqueName: 'chat', taskStatus: 'assigned', attributes };
      await page.evaluate(async (agentToken) => {
        const flexWindow = globalThis as unknown as FlexWindow;
        flexWindow.agentToken = agentToken;
        if (flexWindow.started) return;
        const Plugin = flexWindow.loadedPlugins[0] as new () => { init(flex: unknown, manager: unknown): Promise<void> };
        const manager = {
          user: {
            get token() {
              return flexWindow.agentToken;
            },
          },
          store: { getState: () => ({ flex: { featureFlags: { transfersConfig: { enabled: false } } } }) },
        };
        flexWindow.shown = [];
        flexWindow.Twilio.Flex.Notifications.addListener('beforeAddNotification', (notification: { id: string }) =>
          flexWindow.shown.push(notification.id),
        );
        await new Plugin().init(flexWindow.Twilio.Flex, manager);
        flexWindow.started = true;
      }, token);
      await page.evaluate(() => {
        (globalThis as unknown as FlexWindow).shown.length = 0;
      });
      return { task, queueSid: sids.queueSid };
    }

    /** What the test reads in the page (the repository compiles without the DOM library, so these are spelled out). */
    interface PageElement {
      textContent: string | null;
      querySelector(selector: string): PageElement | null;
      querySelectorAll(selector: string): ArrayLike<PageElement>;
    }
    interface FlexWindow {
      Twilio: { Flex: any }; // eslint-disable-line @typescript-eslint/no-explicit-any -- the real Flex UI module in the page
      React: { createElement(type: unknown, props: object, ...children: unknown[]): unknown };
      ReactDOM: {
        render(element: unknown, container: PageElement | null): void;
        unmountComponentAtNode(container: PageElement | null): void;
      };
      document: { getElementById(id: string): PageElement | null; querySelector(selector: string): PageElement | null };
      loadedPlugins: unknown[];
      agentToken: string;
      started: boolean;
      shown: string[];
    }

    /** Invokes a Flex action in the page through Flex's Actions framework; errors come back as data. */
    function invoke(name: string, payload: object): Promise<{ ok: boolean; value?: unknown; error?: string }> {
      return page.evaluate(
        async ({ name, payload }) => {
          try {
            return { ok: true, value: await (globalThis as unknown as FlexWindow).Twilio.Flex.Actions.invokeAction(name, payload) };
          } catch (thrown) {
            return { ok: false, error: String((thrown as Error)?.message ?? thrown) };
          }
        },
        { name, payload },
      );
    }

    const shownInPage = () => page.evaluate(() => [...(globalThis as unknown as FlexWindow).shown]);

    test("the bundle loads under Flex UI 2.17.1 and hands its plugin class to Flex's loader", async () => {
      const loaded = await page.evaluate(() => {
        const flexWindow = globalThis as unknown as FlexWindow;
        const Plugin = flexWindow.loadedPlugins[0] as new () => { name: string; uniqueName: string; version: string };
        const instance = new Plugin();
        return {
          count: flexWindow.loadedPlugins.length,
          name: instance.name,
          uniqueName: instance.uniqueName,
          flex: flexWindow.Twilio.Flex.VERSION,
        };
      });
      expect(loaded).toEqual({
        count: 1,
        name: 'ConversationTransfersPlugin',
        uniqueName: 'plugin-conversation-transfers',
        flex: '2.17.1',
      });
    });

    test("Flex's TransferTask for a conversation task goes from the page to the functions: one invite, Flex shows the notice", async () => {
      const { task, queueSid } = await agentWithConversation();

      const result = await invoke('TransferTask', { task, targetSid: queueSid, options: { mode: 'WARM' } });

      // A readable answer: the browser accepted the functions' CORS answer for the page's origin.
      expect(result).toEqual({ ok: true, value: expect.objectContaining({ target: { type: 'queue', sid: queueSid }, replayed: false }) });
      const invites = harness.standin.requestsTo('invite-create');
      expect(invites).toHaveLength(1);
      expect(invites[0]?.routing?.properties).toMatchObject({ queue_sid: queueSid, attributes: { transferredFromTaskSid: task.taskSid } });
      expect(await shownInPage()).toEqual(['ConversationTransfers.Transferred']);
    });

    test('a second transfer while one is in flight: Flex itself refuses a repeat of the same action; the plugin refuses another target', async () => {
      const { task, queueSid } = await agentWithConversation();
      const otherQueueSid = harness.standin.addQueue({ workspaceSid: TEST_WORKSPACE_SID });

      const outcomes = await page.evaluate(
        async ({ same, other }) => {
          const { Actions } = (globalThis as unknown as FlexWindow).Twilio.Flex;
          const settled = await Promise.allSettled([
            Actions.invokeAction('TransferTask', same),
            Actions.invokeAction('TransferTask', same), // a double click on the same directory entry
            Actions.invokeAction('TransferTask', other), // another entry clicked before the first answer
          ]);
          return settled.map((outcome) => (outcome.status === 'rejected' ? String(outcome.reason?.message ?? outcome.reason) : 'sent'));
        },
        {
          same: { task, targetSid: queueSid, options: { mode: 'WARM' } },
          other: { task, targetSid: otherQueueSid, options: { mode: 'COLD' } },
        },
      );

      expect(outcomes).toEqual(['sent', 'Action is pending', 'A transfer of this task is already in flight.']);
      const invites = harness.standin.requestsTo('invite-create');
      expect(invites).toHaveLength(1);
      expect(invites[0]?.routing?.properties).toMatchObject({ queue_sid: queueSid });
      expect((await shownInPage()).sort()).toEqual(['ConversationTransfers.AlreadyInFlight', 'ConversationTransfers.Transferred']);
    });

    test("Flex's WrapupTask of the task is stopped by the plugin while its transfer is in flight", async () => {
      const { task, queueSid } = await agentWithConversation();
      harness.standin.script('invite-create', { delayMs: 1500 });

      const outcome = await page.evaluate(
        async ({ task, queueSid }) => {
          const flexWindow = globalThis as unknown as FlexWindow;
          const { Actions } = flexWindow.Twilio.Flex;
          let wrappedUp = false;
          const flexTask = { ...task, wrapUp: async () => (wrappedUp = true) };
          const transfer = Actions.invokeAction('TransferTask', { task: flexTask, targetSid: queueSid, options: { mode: 'WARM' } });
          await Actions.invokeAction('WrapupTask', { task: flexTask }).catch(() => undefined);
          const wrappedDuringTransfer = wrappedUp;
          await transfer;
          return { wrappedDuringTransfer, shown: [...flexWindow.shown] };
        },
        { task, queueSid },
      );

      expect(outcome).toEqual({
        wrappedDuringTransfer: false,
        shown: ['ConversationTransfers.WrapupBlocked', 'ConversationTransfers.Transferred'],
      });
    });

    test("the Transfers tab renders in the page from Flex's content store and its Cancel cancels the transfer's task", async () => {
      const { task, queueSid } = await agentWithConversation();
      await invoke('TransferTask', { task, targetSid: queueSid, options: { mode: 'WARM' } });

      // Render what the plugin added to TaskCanvasTabs, inside Flex's TaskContext for this task.
      const rows = await page.evaluate(async (task) => {
        const flexWindow = globalThis as unknown as FlexWindow;
        const { React, ReactDOM } = flexWindow;
        const { TaskCanvasTabs, TaskContext } = flexWindow.Twilio.Flex;
        // Flex wraps each added element in a fragment; ours is its child, the Tab, whose child is the view.
        const fragment = TaskCanvasTabs.Content.fragments.find(
          (element: { props?: { children?: { key?: string } } }) => element.props?.children?.key === 'conversation-transfers-tab',
        );
        const tab = fragment.props.children;
        const canvas = flexWindow.document.getElementById('canvas');
        ReactDOM.render(React.createElement(TaskContext.Provider, { value: { task } }, tab.props.children), canvas);
        for (let waited = 0; waited < 5000 && !canvas?.querySelector('li'); waited += 50)
          await new Promise((resolve) => setTimeout(resolve, 50));
        return Array.from(canvas?.querySelectorAll('li') ?? []).map((row) => row.textContent);
      }, task);

      expect(rows).toEqual([expect.stringMatching(new RegExp(`^Warm transfer to queue ${queueSid}: waiting for an agent.*Cancel$`))]);
      const [pending] = harness.standin.requestsTo('invite-create');
      expect(pending).toBeDefined();

      await page.click('#canvas li button');
      await page.waitForFunction(() => (globalThis as unknown as FlexWindow).shown.includes('ConversationTransfers.Canceled'));

      const canceled = harness.standin.requestsTo('task-update').filter((request) => request.form.AssignmentStatus === 'canceled');
      expect(canceled).toHaveLength(1);
      await page.waitForFunction(() => !(globalThis as unknown as FlexWindow).document.querySelector('#canvas li button'));
      expect(await page.textContent('#canvas li')).toMatch(/: canceled/);
      await page.evaluate(() => {
        const flexWindow = globalThis as unknown as FlexWindow;
        flexWindow.ReactDOM.unmountComponentAtNode(flexWindow.document.getElementById('canvas'));
      });
    });

    test('a voice task goes to the original TransferTask of Flex, and nothing reaches the functions', async () => {
      await agentWithConversation();
      const voice = { sid: fakeSid('WR'), taskSid: fakeSid('WT'), taskChannelUniqueName: 'voice', attributes: { call_sid: fakeSid('CA') } };

      const result = await invoke('TransferTask', { task: voice, targetSid: fakeSid('WK'), options: { mode: 'COLD' } });

      // Flex's own TransferTask ran: it refuses a voice task without a live call, with its own notification.
      expect(result.ok).toBe(false);
      expect(await shownInPage()).toEqual(['TaskCannotBeTransferred']);
      expect(harness.standin.requestsTo('token-validate')).toHaveLength(0);
      expect(harness.standin.requestsTo('invite-create')).toHaveLength(0);
    });

    test('nothing left the machine: what Flex UI asks for at load (fonts, country data, sounds) was refused, and nothing else was asked for', () => {
      const hosts = new Set(offPage.map((url) => new URL(url).hostname));
      expect([...hosts].filter((host) => !['assets.twilio.com', 'assets.flex.twilio.com', 'media.twiliocdn.com'].includes(host))).toEqual(
        [],
      );
    });
  });
}
