/**
 * Shared test data for the unit tests: well-formed SIDs and a minimal valid
 * environment, built the way a deployment would set them.
 */
import { type Environment, parseSettings, type Settings } from '../../src/config';

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
