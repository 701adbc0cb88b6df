/**
 * Test data and helpers written once for every suite: well-formed SIDs, the
 * settings a deployment must have, what a caller is told when a step refuses,
 * and a channel seeded with an agent at the stand-in.
 */
import { newSid, type Participant, type TwilioStandin } from '../../dev/twilio-standin';
import { type Environment, parseSettings, type Settings } from '../../src/config';
import { asFailure, type FieldProblem } from '../../src/errors';
import { type ErrorCode, failureToHttp } from '../../src/http/errors';

/** A well-formed SID: the two-letter prefix followed by 32 hex digits derived from `n`. */
export function sid(prefix: string, n = 1): string {
  return prefix + n.toString(16).padStart(32, '0');
}

/** 32 letters and digits, the shape of a Twilio auth token. */
export const AUTH_TOKEN = '0123456789abcdef0123456789ABCDEF';

export const ACCOUNT_SID = sid('AC', 0xacc);
export const WORKSPACE_SID = sid('WS', 0x5a);

/** The settings every deployment must have (contract: ACCOUNT_SID, AUTH_TOKEN, TWILIO_FLEX_WORKSPACE_SID). */
export function requiredEnv(): Environment {
  return { ACCOUNT_SID, AUTH_TOKEN, TWILIO_FLEX_WORKSPACE_SID: WORKSPACE_SID };
}

/** Settings parsed from the required environment plus `extra`. */
export function settingsWith(extra: Environment = {}): Settings {
  return parseSettings({ ...requiredEnv(), ...extra });
}

/** The account the stand-in serves, for the functions run against it (in-process, under twilio-run, deployed layout). */
export const TEST_ACCOUNT_SID = 'AC' + 'a1'.repeat(16);
export const TEST_AUTH_TOKEN = 'T0kenT0kenT0kenT0kenT0kenT0ken12';
export const TEST_WORKSPACE_SID = 'WS' + 'b2'.repeat(16);

/** The default transfer workflow of the functions run against the stand-in (seeded there with a known-agent target). */
export const TEST_WORKFLOW_SID = 'WW' + 'c3'.repeat(16);

/** The settings of the functions run against the stand-in: the required ones, and the workflow every invite names (v3). */
export function baseSettings(): Record<string, string> {
  return {
    ACCOUNT_SID: TEST_ACCOUNT_SID,
    AUTH_TOKEN: TEST_AUTH_TOKEN,
    TWILIO_FLEX_WORKSPACE_SID: TEST_WORKSPACE_SID,
    TRANSFER_WORKFLOW_SID: TEST_WORKFLOW_SID,
  };
}

/** What a caller is told when a step refuses: the answer's status, code, message and `details`, with the fields they name. */
export interface Refusal {
  status: number;
  code: ErrorCode;
  message: string;
  fields: string[];
  details: FieldProblem[];
}

/** The refusal `act` throws, as the caller would get it; undefined when it does not refuse. */
export function refusalIfAny(act: () => unknown): Refusal | undefined {
  try {
    act();
    return undefined;
  } catch (thrown) {
    const { status, body } = failureToHttp(asFailure(thrown));
    const details = body.error.details ?? [];
    return { status, code: body.error.code, message: body.error.message, fields: details.map((detail) => detail.field), details };
  }
}

/** The refusal `act` throws, as the caller would get it; fails the test when it does not refuse. */
export function refusalOf(act: () => unknown): Refusal {
  const refusal = refusalIfAny(act);
  if (refusal === undefined) throw new Error('expected a refusal, but it went through');
  return refusal;
}

/** A task of the channel assigned to an agent, as Flex has it while the agent talks to the customer; returns its SID. */
export function assignedTaskOf(standin: TwilioStandin, channel: { interactionSid: string; channelSid: string }): string {
  return standin.addTask({
    workspaceSid: TEST_WORKSPACE_SID,
    assignmentStatus: 'assigned',
    attributes: { flexInteractionSid: channel.interactionSid, flexInteractionChannelSid: channel.channelSid },
  });
}

/**
 * Seeds the channel with a customer, `others`, and `workerSid` as its agent, on an assigned task of the channel as Flex
 * has it (`routing_properties.task_sid`); returns the agent's participant SID.
 */
export function joinAsAgent(
  standin: TwilioStandin,
  channel: { interactionSid: string; channelSid: string },
  workerSid: string,
  others: Participant[] = [],
): string {
  const participantSid = newSid('UT');
  const taskSid = assignedTaskOf(standin, channel);
  standin.setParticipants(channel.interactionSid, channel.channelSid, [
    { sid: newSid('UT'), type: 'customer', routing_properties: null },
    ...others,
    { sid: participantSid, type: 'agent', routing_properties: { worker_sid: workerSid, task_sid: taskSid } },
  ]);
  return participantSid;
}
