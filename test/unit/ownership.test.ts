import type { Environment } from '../../src/config';
import type { Caller } from '../../src/core/authenticate';
import { isRestricted, participantToClose, requireOwnParticipation } from '../../src/core/ownership';
import type { ChannelParticipant } from '../../src/twilio/flex';
import { refusalOf, settingsWith, sid } from '../support/fixtures';

const MY_WORKER = sid('WK', 1);
const OTHER_WORKER = sid('WK', 2);
const TASK = sid('WT', 1);
const OTHER_TASK = sid('WT', 2);

const agent = (workerSid: string | undefined = MY_WORKER, roles: string[] = ['agent']): Caller => ({
  kind: 'flex-token',
  workerSid,
  roles,
});
const signed: Caller = { kind: 'twilio-signature' };
const basic: Caller = { kind: 'basic' };

function participant(n: number, overrides: Partial<ChannelParticipant> = {}): ChannelParticipant {
  return { sid: sid('UT', n), type: 'agent', workerSid: undefined, taskSid: undefined, ...overrides };
}

const CUSTOMER = participant(0xc, { type: 'customer' });
const MINE = participant(1, { workerSid: MY_WORKER, taskSid: OTHER_TASK });
const THEIRS = participant(2, { workerSid: OTHER_WORKER, taskSid: TASK });

describe('isRestricted: who may act only on their own conversations', () => {
  test.each<[string, Caller, Environment, boolean]>([
    ['a plain agent', agent(), {}, true],
    ['an agent with a role outside every list', agent(MY_WORKER, ['agent', 'wfo.viewer']), {}, true],
    ['a supervisor', agent(MY_WORKER, ['supervisor']), {}, false],
    ['an agent who is also a supervisor', agent(MY_WORKER, ['agent', 'supervisor']), {}, false],
    ['an admin', agent(MY_WORKER, ['admin']), {}, false],
    ['a Twilio-signed caller', signed, {}, false],
    ['a Basic caller', basic, {}, false],
    ['a plain agent with the check turned off', agent(), { TRANSFER_REQUIRE_PARTICIPANT: 'false' }, false],
    [
      'a team lead listed as unrestricted',
      agent(MY_WORKER, ['agent', 'wfo.team_lead']),
      { TRANSFER_UNRESTRICTED_ROLES: 'wfo.team_lead' },
      false,
    ],
    [
      'a supervisor when only team leads are unrestricted',
      agent(MY_WORKER, ['supervisor']),
      { TRANSFER_UNRESTRICTED_ROLES: 'wfo.team_lead' },
      true,
    ],
  ])('%s -> %p', (_label, caller, env, restricted) => {
    expect(isRestricted(caller, settingsWith(env))).toBe(restricted);
  });
});

describe('requireOwnParticipation', () => {
  test('an agent participant of the channel with the caller’s worker may act', () => {
    expect(() => requireOwnParticipation(agent(), [CUSTOMER, THEIRS, MINE])).not.toThrow();
  });

  test.each<[string, Caller, ChannelParticipant[]]>([
    ['another agent’s channel', agent(), [CUSTOMER, THEIRS]],
    ['a channel without participants', agent(), []],
    ['a customer participant carrying the caller’s worker', agent(), [participant(3, { type: 'customer', workerSid: MY_WORKER })]],
    ['a supervisor participant carrying the caller’s worker', agent(), [participant(4, { type: 'supervisor', workerSid: MY_WORKER })]],
    ['a token without a worker, even beside an agent participant without one', agent(undefined), [participant(5)]],
  ])('%s -> 403 saying why', (_label, caller, participants) => {
    const refusal = refusalOf(() => requireOwnParticipation(caller, participants));
    expect(refusal.status).toBe(403);
    expect(refusal.code).toBe('forbidden');
    expect(refusal.message).toMatch(/not an agent participant/);
  });
});

describe('participantToClose', () => {
  const close = (options: Partial<Parameters<typeof participantToClose>[0]>) =>
    participantToClose({
      caller: agent(),
      restricted: false,
      requestedSid: undefined,
      taskSid: undefined,
      participants: [CUSTOMER, MINE, THEIRS],
      ...options,
    });

  test('an unrestricted caller’s named participant is closed as named', () => {
    expect(close({ caller: agent(MY_WORKER, ['supervisor']), requestedSid: THEIRS.sid })).toBe(THEIRS.sid);
    expect(close({ caller: signed, requestedSid: THEIRS.sid, participants: undefined })).toBe(THEIRS.sid);
  });

  test('a plain agent may name their own participant', () => {
    expect(close({ restricted: true, requestedSid: MINE.sid })).toBe(MINE.sid);
  });

  test.each([
    ['another agent’s participant', THEIRS.sid],
    ['the customer', CUSTOMER.sid],
    ['a participant not in the channel', sid('UT', 0x99)],
  ])('a plain agent naming %s -> 403, nothing closed', (_label, requestedSid) => {
    const refusal = refusalOf(() => close({ restricted: true, requestedSid }));
    expect(refusal.status).toBe(403);
    expect(refusal.message).toMatch(/only your own participant/);
  });

  test('without a name: the agent participant of the task being transferred comes first', () => {
    expect(close({ caller: agent(MY_WORKER, ['supervisor']), taskSid: TASK })).toBe(THEIRS.sid);
    expect(close({ caller: signed, taskSid: TASK })).toBe(THEIRS.sid);
  });

  test('without a name or a matching task: the caller’s own agent participant', () => {
    expect(close({ taskSid: sid('WT', 0x77) })).toBe(MINE.sid);
    expect(close({})).toBe(MINE.sid);
  });

  test('a plain agent never gets another agent’s participant through the task: their own instead', () => {
    expect(close({ restricted: true, taskSid: TASK })).toBe(MINE.sid);
  });

  test('never a customer, even one carrying the task or the caller’s worker', () => {
    const customerLikeMine = participant(6, { type: 'customer', workerSid: MY_WORKER, taskSid: TASK });
    const refusal = refusalOf(() => close({ taskSid: TASK, participants: [customerLikeMine] }));
    expect(refusal).toMatchObject({ status: 400, code: 'invalid_request', fields: ['participantSid'] });
  });

  test.each<[string, Partial<Parameters<typeof participantToClose>[0]>]>([
    ['a signed caller without taskSid', { caller: signed }],
    ['a Basic caller whose task has no agent participant', { caller: basic, taskSid: sid('WT', 0x77) }],
    ['an agent not in the channel', { caller: agent(sid('WK', 0x77)) }],
    ['a participant list that could not be read', { participants: undefined }],
  ])('no participant to close (%s) -> 400 naming participantSid', (_label, options) => {
    const refusal = refusalOf(() => close(options));
    expect(refusal).toMatchObject({ status: 400, code: 'invalid_request', fields: ['participantSid'] });
  });
});
