import type { MisconfiguredError } from './errors';
import { SettingsReader } from './settings-reader';
import { describeSid, isSid } from './value-formats';

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
  /** Roles that may act on any conversation; everyone else only on their own. */
  unrestrictedRoles: ReadonlySet<string>;
  /** Whether a plain agent must be a participant of the channel they transfer. */
  requireParticipant: boolean;
  /** undefined: HTTP Basic is disabled. */
  basicAuth: { user: string; password: string } | undefined;
  tokenCacheSeconds: number;
  syncServiceSid: string;
  idempotencyTtlSeconds: number;
  /** How an agent transfer reaches its worker: through the workflow (known-agent routing) or a `worker_sid` invite. */
  agentRouting: 'workflow' | 'direct';
  /** When a cold transfer closes the transferring participant: when the new agent accepts, or right after the invite. */
  coldClose: 'on-accept' | 'immediate';
  /** Twilio region and edge for every call (the helper library reads the same variables). */
  region: string | undefined;
  edge: string | undefined;
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
  'TRANSFER_UNRESTRICTED_ROLES',
  'TRANSFER_REQUIRE_PARTICIPANT',
  'TRANSFER_BASIC_AUTH_USER',
  'TRANSFER_BASIC_AUTH_PASSWORD',
  'TRANSFER_TOKEN_CACHE_SECONDS',
  'TRANSFER_SYNC_SERVICE_SID',
  'TRANSFER_IDEMPOTENCY_TTL_SECONDS',
  'TRANSFER_AGENT_ROUTING',
  'TRANSFER_COLD_CLOSE',
  'TWILIO_REGION',
  'TWILIO_EDGE',
] as const;

export type SettingName = (typeof SETTING_NAMES)[number];
export type Environment = Partial<Record<SettingName, unknown>>;

const DEFAULT_ALLOWED_ORIGINS = 'https://flex.twilio.com';
const DEFAULT_ALLOWED_ROLES = 'agent,supervisor,admin';
const DEFAULT_UNRESTRICTED_ROLES = 'supervisor,admin';
const DEFAULT_TOKEN_CACHE_SECONDS = 60;
const MAX_TOKEN_CACHE_SECONDS = 3600;
const DEFAULT_IDEMPOTENCY_TTL_SECONDS = 86400;
/** Sync's own ceiling for a document's TTL (one year). */
const MAX_IDEMPOTENCY_TTL_SECONDS = 31_536_000;
/** A key must outlive the slowest first attempt (10 s) by a margin. */
const MIN_IDEMPOTENCY_TTL_SECONDS = 60;

/** Every problem with the settings, in the order of SETTING_NAMES' groups (empty when they are usable). */
export function settingsProblems(env: Environment): MisconfiguredError[] {
  return readAll(env).problems;
}

function readAll(env: Environment): { settings: Settings; problems: MisconfiguredError[] } {
  const read = new SettingsReader(env);
  const accountSid = read.sid('ACCOUNT_SID', 'account', read.required('ACCOUNT_SID'));
  const authToken = read.matching('AUTH_TOKEN', read.required('AUTH_TOKEN'), /^[A-Za-z0-9]{32}$/, 'an auth token (32 letters and digits)');
  const workspaceSid = read.sid('TWILIO_FLEX_WORKSPACE_SID', 'workspace', read.required('TWILIO_FLEX_WORKSPACE_SID'));

  const allowedWorkflows = read.sidList('TRANSFER_ALLOWED_WORKFLOW_SIDS', 'workflow', 'a comma-separated list of workflow SIDs (WW...)');

  const basicUser = read.optional('TRANSFER_BASIC_AUTH_USER');
  const basicPassword = read.optional('TRANSFER_BASIC_AUTH_PASSWORD');
  if (basicUser !== undefined && basicUser.includes(':')) {
    read.fail('TRANSFER_BASIC_AUTH_USER', 'must not contain a colon (HTTP Basic cannot carry one)');
  }

  const syncService = read.optional('TRANSFER_SYNC_SERVICE_SID') ?? 'default';
  if (syncService !== 'default' && !isSid('syncService', syncService)) {
    read.fail('TRANSFER_SYNC_SERVICE_SID', `must be default or ${describeSid('syncService')}`);
  }

  const settings: Settings = {
    accountSid: accountSid ?? '',
    authToken: authToken ?? '',
    workspaceSid: workspaceSid ?? '',
    defaultWorkflowSid: read.sid('TRANSFER_WORKFLOW_SID', 'workflow', read.optional('TRANSFER_WORKFLOW_SID')),
    allowedWorkflowSids: allowedWorkflows === undefined ? undefined : new Set(allowedWorkflows),
    agentQueueSid: read.sid('TRANSFER_AGENT_QUEUE_SID', 'queue', read.optional('TRANSFER_AGENT_QUEUE_SID')),
    defaultTaskChannel: read.taskChannel('TRANSFER_TASK_CHANNEL'),
    allowedOrigins: new Set(read.commaList('TRANSFER_ALLOWED_ORIGINS', DEFAULT_ALLOWED_ORIGINS)),
    allowedRoles: new Set(read.commaList('TRANSFER_ALLOWED_ROLES', DEFAULT_ALLOWED_ROLES)),
    unrestrictedRoles: new Set(read.commaList('TRANSFER_UNRESTRICTED_ROLES', DEFAULT_UNRESTRICTED_ROLES)),
    requireParticipant: read.flag('TRANSFER_REQUIRE_PARTICIPANT', true),
    basicAuth: basicUser !== undefined && basicPassword !== undefined ? { user: basicUser, password: basicPassword } : undefined,
    tokenCacheSeconds: read.wholeNumber('TRANSFER_TOKEN_CACHE_SECONDS', DEFAULT_TOKEN_CACHE_SECONDS, {
      min: 0,
      max: MAX_TOKEN_CACHE_SECONDS,
      unit: 'seconds',
    }),
    syncServiceSid: syncService,
    idempotencyTtlSeconds: read.wholeNumber('TRANSFER_IDEMPOTENCY_TTL_SECONDS', DEFAULT_IDEMPOTENCY_TTL_SECONDS, {
      min: MIN_IDEMPOTENCY_TTL_SECONDS,
      max: MAX_IDEMPOTENCY_TTL_SECONDS,
      unit: 'seconds',
    }),
    agentRouting: read.oneOf('TRANSFER_AGENT_ROUTING', ['workflow', 'direct'] as const, 'workflow'),
    coldClose: read.oneOf('TRANSFER_COLD_CLOSE', ['on-accept', 'immediate'] as const, 'on-accept'),
    region: read.matching('TWILIO_REGION', read.optional('TWILIO_REGION'), /^[a-z0-9]{2,10}$/, 'a Twilio region such as ie1 or au1'),
    edge: read.matching('TWILIO_EDGE', read.optional('TWILIO_EDGE'), /^[a-z0-9-]{2,20}$/, 'a Twilio edge such as dublin or sydney'),
  };
  return { settings, problems: read.problems };
}

/** The checked settings; throws the first MisconfiguredError (it names the variable, never its value). */
export function parseSettings(env: Environment): Settings {
  const { settings, problems } = readAll(env);
  if (problems[0] !== undefined) throw problems[0];
  return settings;
}

/**
 * The allowed origins alone, never failing: a misconfigured deployment still
 * answers browsers with a readable `misconfigured` error.
 */
export function allowedOriginsLeniently(env: Environment): ReadonlySet<string> {
  const read = new SettingsReader(env);
  const origins = read.commaList('TRANSFER_ALLOWED_ORIGINS', DEFAULT_ALLOWED_ORIGINS);
  return new Set(read.problems.length === 0 ? origins : [DEFAULT_ALLOWED_ORIGINS]);
}

/** Picks the settings out of an object that holds more (the runtime's context). */
export function environmentOf(source: Readonly<Record<string, unknown>>): Environment {
  return Object.fromEntries(SETTING_NAMES.map((name) => [name, source[name]]));
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
