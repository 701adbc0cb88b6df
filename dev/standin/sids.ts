import { randomBytes } from 'node:crypto';

/** A random, well-formed Twilio SID: the two-letter prefix and 32 lower-case hex digits. */
export const newSid = (prefix: string): string => prefix + randomBytes(16).toString('hex');

/** Whether `value` is a SID with that prefix (Twilio accepts either case of hex digits). */
export const isSid = (prefix: string, value: string | undefined): value is string =>
  value !== undefined && new RegExp(`^${prefix}[0-9a-fA-F]{32}$`).test(value);
