/**
 * The KeyStore on Sync Documents (src/twilio/sync-key-store.ts): what each of
 * Sync's answers means for the claim protocol. The real transport and helper
 * library run against the Twilio stand-in, which answers as Sync does (409 /
 * 54301 for a unique name taken, 412 / 54103 for a stale revision, 404).
 */
import { standinSender } from '../../dev/standin-sender';
import { TwilioStandin } from '../../dev/twilio-standin';
import { Deadline, REQUEST_BUDGET_MS } from '../../src/core/deadline';
import { TwilioApiError, UpstreamUnavailableError } from '../../src/errors';
import { SyncKeyStore } from '../../src/twilio/sync-key-store';
import { TwilioTransport } from '../../src/twilio/transport';
import { ACCOUNT_SID, AUTH_TOKEN } from '../support/fixtures';

const standin = new TwilioStandin(ACCOUNT_SID, AUTH_TOKEN);
beforeEach(() => standin.reset());

const NAME = 'transfer-key-abc';

/** A store on the default service; a short deadline leaves no time for retries. */
function store(budgetMs = REQUEST_BUDGET_MS): SyncKeyStore {
  const transport = new TwilioTransport({
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    deadline: Deadline.after(budgetMs),
    sender: standinSender(standin),
    random: () => 0,
  });
  return new SyncKeyStore({ transport, serviceSid: 'default', ttlSeconds: 600 });
}

async function failureOf(work: Promise<unknown>): Promise<unknown> {
  try {
    await work;
  } catch (thrown) {
    return thrown;
  }
  throw new Error('expected the store to fail, but it answered');
}

describe('SyncKeyStore', () => {
  test('createIfAbsent: creates the document with its data and the TTL; a second create finds the name taken (409 / 54301)', async () => {
    expect(await store().createIfAbsent(NAME, { fingerprint: 'f' })).toBe(true);
    expect(standin.syncDocument(NAME)?.data).toEqual({ fingerprint: 'f' });
    expect(standin.requestsTo('sync-create')[0]?.form.Ttl).toBe('600');
    expect(await store().createIfAbsent(NAME, { fingerprint: 'g' })).toBe(false);
    expect(standin.syncDocument(NAME)?.data).toEqual({ fingerprint: 'f' });
  });

  test('createIfAbsent: Twilio code 54301 means taken, whatever the status', async () => {
    standin.script('sync-create', { status: 400, body: { code: 54301, message: 'Unique name already exists', status: 400 } });
    expect(await store().createIfAbsent(NAME, {})).toBe(false);
  });

  test('read: the data with its revision; undefined when there is no document (404)', async () => {
    expect(await store().read(NAME)).toBeUndefined();
    await store().createIfAbsent(NAME, { startedAtMs: 5 });
    expect(await store().read(NAME)).toEqual({ data: { startedAtMs: 5 }, revision: expect.any(String) });
  });

  test('replace: with the revision read, replaced; after someone else replaced it, a revision mismatch (412 / 54103)', async () => {
    await store().createIfAbsent(NAME, { v: 1 });
    const first = await store().read(NAME);
    expect(await store().replace(NAME, { v: 2 }, { ifRevision: first?.revision })).toBe('replaced');
    expect(await store().replace(NAME, { v: 3 }, { ifRevision: first?.revision })).toBe('revision-mismatch');
    expect(standin.syncDocument(NAME)?.data).toEqual({ v: 2 });
    expect(await store().replace(NAME, { v: 4 })).toBe('replaced');
    expect(standin.syncDocument(NAME)?.data).toEqual({ v: 4 });
  });

  test('delete: removes the document; one already gone (404) is no failure', async () => {
    await store().createIfAbsent(NAME, {});
    await store().delete(NAME);
    expect(standin.syncDocument(NAME)).toBeUndefined();
    await expect(store().delete(NAME)).resolves.toBeUndefined();
  });

  test.each([
    ['createIfAbsent', 'sync-create', (keys: SyncKeyStore) => keys.createIfAbsent(NAME, {})],
    ['read', 'sync-fetch', (keys: SyncKeyStore) => keys.read(NAME)],
    ['replace', 'sync-update', (keys: SyncKeyStore) => keys.replace(NAME, {}, { ifRevision: '0' })],
    ['delete', 'sync-delete', (keys: SyncKeyStore) => keys.delete(NAME)],
  ] as const)('%s: any other refusal of Sync is "unavailable" (503), never the caller’s fault', async (_method, route, call) => {
    await store().createIfAbsent(NAME, {});
    standin.script(route, { status: 400, body: { code: 20001, message: 'Invalid', status: 400 } });
    const thrown = await failureOf(call(store()));
    expect(thrown).toBeInstanceOf(UpstreamUnavailableError);
    expect((thrown as UpstreamUnavailableError).cause).toBeInstanceOf(TwilioApiError);
  });

  test('throttling keeps its 429; Sync unreachable stays "unavailable"', async () => {
    standin.script('sync-create', { status: 429, body: { code: 20429, message: 'Too many requests', status: 429 } });
    const throttled = await failureOf(store(500).createIfAbsent(NAME, {}));
    expect(throttled).toBeInstanceOf(TwilioApiError);
    expect((throttled as TwilioApiError).status).toBe(429);

    standin.script('sync-fetch', { refuse: true });
    const unreachable = await failureOf(store(500).read(NAME));
    expect(unreachable).toBeInstanceOf(UpstreamUnavailableError);
    expect((unreachable as UpstreamUnavailableError).operation).toBe('sync-fetch');
  });
});
