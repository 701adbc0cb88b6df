/**
 * What a valid value looks like, written once: request fields (core/fields.ts)
 * and settings (settings-reader.ts) read whole numbers, comma lists, SIDs and
 * task channel names with these readers, and describe a bad value in the same
 * words ("must be ...", to follow the field's or the setting's name).
 */

/** What reading one value found: the value, or what is wrong with it. */
export type ValueRead<T> = { ok: true; value: T } | { ok: false; problem: string };

function accepted<T>(value: T): ValueRead<T> {
  return { ok: true, value };
}

function refused(problem: string): { ok: false; problem: string } {
  return { ok: false, problem };
}

/** Twilio SID rules: settings and request fields are checked against the same table. */
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

const SID_PATTERNS = new Map<SidKind, RegExp>(
  Object.entries(SID_KINDS).map(([kind, { prefix }]) => [kind as SidKind, new RegExp(`^${prefix}[0-9a-fA-F]{32}$`)]),
);

export function isSid(kind: SidKind, value: unknown): value is string {
  return typeof value === 'string' && (SID_PATTERNS.get(kind) as RegExp).test(value);
}

/** How a SID of this kind looks, for error messages: "a worker SID (WK followed by 32 hexadecimal digits)". */
export function describeSid(kind: SidKind): string {
  const { prefix, noun } = SID_KINDS[kind];
  return `${noun} (${prefix} followed by 32 hexadecimal digits)`;
}

export function readSid(kind: SidKind, value: string): ValueRead<string> {
  return isSid(kind, value) ? accepted(value) : refused(`must be ${describeSid(kind)}`);
}

/** A value of a given shape; `shape` says what it must be ("an auth token (32 letters and digits)"). */
export function readMatching(value: string, pattern: RegExp, shape: string): ValueRead<string> {
  return pattern.test(value) ? accepted(value) : refused(`must be ${shape}`);
}

export const TASK_CHANNEL_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const TASK_CHANNEL_DESCRIPTION = 'a task channel unique name (letters, digits, _ or -, 1 to 64)';

/** A TaskRouter task channel's unique name (chat, sms, voice, or a custom one). */
export function readTaskChannel(value: string): ValueRead<string> {
  return readMatching(value, TASK_CHANNEL_PATTERN, TASK_CHANNEL_DESCRIPTION);
}

export function readOneOf<T extends string>(value: string, allowed: readonly T[]): ValueRead<T> {
  const found = allowed.find((candidate) => candidate === value);
  return found === undefined ? refused(`must be one of: ${allowed.join(', ')}`) : accepted(found);
}

export function readFlag(value: string): ValueRead<boolean> {
  const lower = value.toLowerCase();
  if (lower === 'true') return accepted(true);
  if (lower === 'false') return accepted(false);
  return refused('must be true or false');
}

/** The range of a whole number and what it counts, for the message: `{ min: 0, max: 3600, unit: 'seconds' }`. */
export interface WholeNumberRange {
  min: number;
  max: number;
  unit: string;
}

const DECIMAL_DIGITS = /^\d{1,10}$/;

/** A whole number in range: a JSON number, or a decimal string such as "5" (no sign, no point, at most 10 digits). */
export function readWholeNumber(value: unknown, range: WholeNumberRange): ValueRead<number> {
  let parsed: number | undefined;
  if (typeof value === 'number' && Number.isInteger(value)) parsed = value;
  if (typeof value === 'string' && DECIMAL_DIGITS.test(value)) parsed = Number(value);
  if (parsed === undefined || parsed < range.min || parsed > range.max) {
    return refused(`must be a whole number of ${range.unit} from ${range.min} to ${range.max}`);
  }
  return accepted(parsed);
}

/** The items of a comma list, trimmed, blanks dropped ("a, b,," is a and b). */
export function readCommaList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}
