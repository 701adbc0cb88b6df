/** `npm run deploy`'s workspace step against the stand-in: what it records in the workspace, and what it says. */
import { standinSender } from '../../dev/standin-sender';
import { TwilioStandin } from '../../dev/twilio-standin';
import { ensureWorkspaceCallback, REQUIRED_EVENTS } from '../../scripts/workspace-callback';
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_WORKSPACE_SID } from '../support/functions-server';

const OURS = 'https://example-1234.twil.io/transfer-events';
const settings = { accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN, workspaceSid: TEST_WORKSPACE_SID };

describe('npm run deploy sets the workspace callback only when it is free or already ours', () => {
  const standin = new TwilioStandin(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN);
  beforeEach(() => standin.reset());
  const run = () => ensureWorkspaceCallback({ settings, callbackUrl: OURS, sender: standinSender(standin) });

  test('no callback: set to /transfer-events with the events it needs', async () => {
    standin.addWorkspace({ sid: TEST_WORKSPACE_SID });
    const report = await run();
    expect(report.action).toBe('set');
    const [update] = standin.requestsTo('workspace-update');
    expect(update?.form).toEqual({ EventCallbackUrl: OURS, EventsFilter: REQUIRED_EVENTS.join(',') });
    expect(standin.workspace(TEST_WORKSPACE_SID)?.eventCallbackUrl).toBe(OURS);
  });

  test('TWILIO_REGION and TWILIO_EDGE apply to deploy’s workspace calls too', async () => {
    standin.addWorkspace({ sid: TEST_WORKSPACE_SID });
    await ensureWorkspaceCallback({
      settings: { ...settings, region: 'ie1', edge: 'dublin' },
      callbackUrl: OURS,
      sender: standinSender(standin),
    });
    expect(new Set(standin.requests.map((request) => request.host))).toEqual(new Set(['taskrouter.dublin.ie1.twilio.com']));
  });

  test('ours but with a trailing slash: not the same URL (TaskRouter signs what it posts to), so left alone', async () => {
    standin.addWorkspace({ sid: TEST_WORKSPACE_SID, eventCallbackUrl: `${OURS}/` });
    expect((await run()).action).toBe('left-alone');
    expect(standin.requestsTo('workspace-update')).toHaveLength(0);
  });

  test('already ours: kept, nothing written', async () => {
    standin.addWorkspace({ sid: TEST_WORKSPACE_SID, eventCallbackUrl: OURS });
    const report = await run();
    expect(report.action).toBe('kept');
    expect(standin.requestsTo('workspace-update')).toHaveLength(0);
  });

  test('ours, but its filter drops an event we need: the filter is widened, the others kept', async () => {
    standin.addWorkspace({ sid: TEST_WORKSPACE_SID, eventCallbackUrl: OURS, eventsFilter: 'task.created,reservation.accepted' });
    const report = await run();
    expect(report.action).toBe('set');
    const filter = standin.requestsTo('workspace-update')[0]?.form.EventsFilter?.split(',') ?? [];
    expect(filter).toEqual(expect.arrayContaining(['task.created', ...REQUIRED_EVENTS]));
  });

  test("someone else's callback: nothing changed, and the message says why and what to do", async () => {
    standin.addWorkspace({ sid: TEST_WORKSPACE_SID, eventCallbackUrl: 'https://crm.example.com/taskrouter' });
    const report = await run();
    expect(report.action).toBe('left-alone');
    expect(standin.requestsTo('workspace-update')).toHaveLength(0);
    expect(report.message).toContain('https://crm.example.com/taskrouter');
    expect(report.message).toContain('TRANSFER_COLD_CLOSE');
  });
});
