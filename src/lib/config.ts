import { MisconfiguredError } from './errors';
import { SID_PATTERNS, TASK_CHANNEL_PATTERN } from './sids';

/** Everything the functions read from their environment, checked. */
export interface Settings {
  accountSid: string;
  authToken: string;
  workspaceSid: string;
  defaultWorkflowSid: string | undefined;
  /** undefined: any workflow may be named by a request. */
  allowedWorkflowSids: ReadonlySet<string> | undefined;
  agentQueueSid: string | undefined;
  defaultTaskChannel: string | undefined;
  allowedOrigins: ReadonlySet<string>;
  allowedRoles: ReadonlySet<string>;
  /** undefined: HTTP Basic is disabled. */
  basicAuth: { user: string; password: string } | undefined;
  tokenCacheSeconds: number;
}

export const SETTING_NAMES = [
  'ACCOUNT_SID',
  'AUTH_TOKEN',
  'TWILIO_FLEX_WORKSPACE_SID',
  'TRANSFER_WORKFLOW_SID',
  'TRANSFER_ALLOWED_WORKFLOW_SIDS',
  'TRANSFER_AGENT_QUEUE_SID',
  'TRANSFER_TASK_CHANNEL',
  'TRANSFER_ALLOWED_ORIGINS',
  'TRANSFER_ALLOWED_ROLES',
  'TRANSFER_BASIC_AUTH_USER',
  'TRANSFER_BASIC_AUTH_PASSWORD',
  'TRANSFER_TOKEN_CACHE_SECONDS',
] as const;

export type SettingName = (typeof SETTING_NAMES)[number];
export type Environment = Partial<Record<SettingName, unknown>>;

const DEFAULT_ALLOWED_ORIGINS = 'https://flex.twilio.com';
const DEFAULT_ALLOWED_ROLES = 'agent,supervisor,admin';
const DEFAULT_TOKEN_CACHE_SECONDS = 60;
const MAX_TOKEN_CACHE_SECONDS = 3600;

/** A set value, trimmed; blank counts as not set (the Console stores empty strings). */
function optional(env: Environment, name: SettingName): string | undefined {
  const value = env[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new MisconfiguredError(name, 'must be a string');
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function required(env: Environment, name: SettingName): string {
  const value = optional(env, name);
  if (value === undefined) throw new MisconfiguredError(name, 'is not set');
  return value;
}

function matching(name: SettingName, value: string | undefined, pattern: RegExp, shape: string): string | undefined {
  if (value !== undefined && !pattern.test(value)) throw new MisconfiguredError(name, `must be ${shape}`);
  return value;
}

function commaList(env: Environment, name: SettingName, fallback: string): string[] {
  const items = (optional(env, name) ?? fallback)
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 0) throw new MisconfiguredError(name, 'must list at least one value');
  return items;
}

function tokenCacheSeconds(env: Environment): number {
  const raw = optional(env, 'TRANSFER_TOKEN_CACHE_SECONDS');
  if (raw === undefined) return DEFAULT_TOKEN_CACHE_SECONDS;
  if (!/^\d+$/.test(raw) || Number(raw) > MAX_TOKEN_CACHE_SECONDS) {
    throw new MisconfiguredError('TRANSFER_TOKEN_CACHE_SECONDS', `must be a whole number of seconds from 0 to ${MAX_TOKEN_CACHE_SECONDS}`);
  }
  return Number(raw);
}

export function parseSettings(env: Environment): Settings {
  const accountSid = matching(
    'ACCOUNT_SID',
    required(env, 'ACCOUNT_SID'),
    SID_PATTERNS.account,
    'an account SID (AC followed by 32 hex digits)',
  );
  const authToken = matching(
    'AUTH_TOKEN',
    required(env, 'AUTH_TOKEN'),
    /^[A-Za-z0-9]{32}$/,
    'an auth token (32 letters and digits)',
  ) as string;
  const workspaceSid = matching(
    'TWILIO_FLEX_WORKSPACE_SID',
    required(env, 'TWILIO_FLEX_WORKSPACE_SID'),
    SID_PATTERNS.workspace,
    'a TaskRouter workspace SID (WS followed by 32 hex digits)',
  ) as string;

  let allowedWorkflowSids: Set<string> | undefined;
  if (optional(env, 'TRANSFER_ALLOWED_WORKFLOW_SIDS') !== undefined) {
    const sids = commaList(env, 'TRANSFER_ALLOWED_WORKFLOW_SIDS', '');
    for (const sid of sids) {
      matching('TRANSFER_ALLOWED_WORKFLOW_SIDS', sid, SID_PATTERNS.workflow, 'a comma-separated list of workflow SIDs (WW...)');
    }
    allowedWorkflowSids = new Set(sids);
  }

  const basicUser = optional(env, 'TRANSFER_BASIC_AUTH_USER');
  const basicPassword = optional(env, 'TRANSFER_BASIC_AUTH_PASSWORD');
  if (basicUser !== undefined && basicUser.includes(':')) {
    throw new MisconfiguredError('TRANSFER_BASIC_AUTH_USER', 'must not contain a colon (HTTP Basic cannot carry one)');
  }

  return {
    accountSid: accountSid as string,
    authToken,
    workspaceSid,
    defaultWorkflowSid: matching(
      'TRANSFER_WORKFLOW_SID',
      optional(env, 'TRANSFER_WORKFLOW_SID'),
      SID_PATTERNS.workflow,
      'a workflow SID (WW followed by 32 hex digits)',
    ),
    allowedWorkflowSids,
    agentQueueSid: matching(
      'TRANSFER_AGENT_QUEUE_SID',
      optional(env, 'TRANSFER_AGENT_QUEUE_SID'),
      SID_PATTERNS.queue,
      'a queue SID (WQ followed by 32 hex digits)',
    ),
    defaultTaskChannel: matching(
      'TRANSFER_TASK_CHANNEL',
      optional(env, 'TRANSFER_TASK_CHANNEL'),
      TASK_CHANNEL_PATTERN,
      'a task channel unique name (letters, digits, _ or -, up to 64)',
    ),
    allowedOrigins: new Set(commaList(env, 'TRANSFER_ALLOWED_ORIGINS', DEFAULT_ALLOWED_ORIGINS)),
    allowedRoles: new Set(commaList(env, 'TRANSFER_ALLOWED_ROLES', DEFAULT_ALLOWED_ROLES)),
    basicAuth: basicUser !== undefined && basicPassword !== undefined ? { user: basicUser, password: basicPassword } : undefined,
    tokenCacheSeconds: tokenCacheSeconds(env),
  };
}

/**
 * The allowed origins alone, never failing: a misconfigured deployment still
 * answers browsers with a readable `misconfigured` error.
 */
export function allowedOriginsLeniently(env: Environment): ReadonlySet<string> {
  try {
    return new Set(commaList(env, 'TRANSFER_ALLOWED_ORIGINS', DEFAULT_ALLOWED_ORIGINS));
  } catch {
    return new Set([DEFAULT_ALLOWED_ORIGINS]);
  }
}

let memo: { key: string; settings: Settings } | undefined;

/**
 * Settings are the same for every request an instance serves, so they are
 * checked once and reused while the environment stays the same.
 */
export function readSettings(env: Environment): Settings {
  const key = SETTING_NAMES.map((name) => String(env[name] ?? '')).join('\u0000');
  if (memo?.key === key) return memo.settings;
  const settings = parseSettings(env);
  memo = { key, settings };
  return settings;
}
