/**
 * Twilio SID rules, written once: settings and request fields are checked
 * against the same table and described to users in the same words.
 */
export const SID_KINDS = {
  account: { prefix: 'AC', noun: 'an account SID' },
  workspace: { prefix: 'WS', noun: 'a TaskRouter workspace SID' },
  workflow: { prefix: 'WW', noun: 'a workflow SID' },
  queue: { prefix: 'WQ', noun: 'a queue SID' },
  worker: { prefix: 'WK', noun: 'a worker SID' },
  task: { prefix: 'WT', noun: 'a task SID' },
  interaction: { prefix: 'KD', noun: 'an interaction SID' },
  channel: { prefix: 'UO', noun: 'an interaction channel SID' },
  participant: { prefix: 'UT', noun: 'a participant SID' },
  invite: { prefix: 'KG', noun: 'an invite SID' },
  syncService: { prefix: 'IS', noun: 'a Sync service SID' },
} as const;

export type SidKind = keyof typeof SID_KINDS;

const patterns = new Map<SidKind, RegExp>(
  Object.entries(SID_KINDS).map(([kind, { prefix }]) => [kind as SidKind, new RegExp(`^${prefix}[0-9a-fA-F]{32}$`)]),
);

export function isSid(kind: SidKind, value: unknown): value is string {
  return typeof value === 'string' && (patterns.get(kind) as RegExp).test(value);
}

/** How a SID of this kind looks, for error messages: "a worker SID (WK followed by 32 hexadecimal digits)". */
export function describeSid(kind: SidKind): string {
  const { prefix, noun } = SID_KINDS[kind];
  return `${noun} (${prefix} followed by 32 hexadecimal digits)`;
}

export const TASK_CHANNEL_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const TASK_CHANNEL_DESCRIPTION = 'a task channel unique name (letters, digits, _ or -, 1 to 64)';
