import { allowedOriginsLeniently, type Environment, parseSettings, readSettings, type SettingName } from '../../src/lib/config';
import { MisconfiguredError } from '../../src/lib/errors';
import { ACCOUNT_SID, AUTH_TOKEN, requiredEnv, sid, WORKSPACE_SID } from './fixtures';

/** The MisconfiguredError parseSettings throws for `env`. */
function misconfiguration(env: Environment, parse: (env: Environment) => unknown = parseSettings): MisconfiguredError {
  try {
    parse(env);
  } catch (error) {
    if (error instanceof MisconfiguredError) return error;
    throw error;
  }
  throw new Error('expected a MisconfiguredError, but the settings were accepted');
}

describe('parseSettings: required settings', () => {
  test('the three required settings are enough', () => {
    const settings = parseSettings(requiredEnv());
    expect(settings.accountSid).toBe(ACCOUNT_SID);
    expect(settings.authToken).toBe(AUTH_TOKEN);
    expect(settings.workspaceSid).toBe(WORKSPACE_SID);
  });

  test.each<SettingName>(['ACCOUNT_SID', 'AUTH_TOKEN', 'TWILIO_FLEX_WORKSPACE_SID'])('%s missing -> misconfigured naming it', (name) => {
    const env = Object.fromEntries(Object.entries(requiredEnv()).filter(([key]) => key !== name));
    const error = misconfiguration(env);
    expect(error.variable).toBe(name);
    expect(error.message).toContain(name);
  });

  test.each<SettingName>(['ACCOUNT_SID', 'AUTH_TOKEN', 'TWILIO_FLEX_WORKSPACE_SID'])('%s blank -> misconfigured naming it', (name) => {
    const error = misconfiguration({ ...requiredEnv(), [name]: '   ' });
    expect(error.variable).toBe(name);
  });
});

describe('parseSettings: malformed values are named, never echoed', () => {
  // Each value is distinctive so the test can prove it does not appear in the message.
  test.each<[SettingName, string]>([
    ['ACCOUNT_SID', 'ACnot-an-account-sid-secret1'],
    ['ACCOUNT_SID', sid('WS', 1)],
    ['AUTH_TOKEN', 'secret-token-with-symbols-0000!'],
    ['AUTH_TOKEN', 'short0secret'],
    ['TWILIO_FLEX_WORKSPACE_SID', 'WSsecret-workspace-not-a-sid'],
    ['TWILIO_FLEX_WORKSPACE_SID', sid('WW', 2)],
    ['TRANSFER_WORKFLOW_SID', 'WWsecret-workflow'],
    ['TRANSFER_WORKFLOW_SID', sid('WQ', 3)],
    ['TRANSFER_ALLOWED_WORKFLOW_SIDS', `${sid('WW', 4)},WQsecret-not-a-workflow`],
    ['TRANSFER_AGENT_QUEUE_SID', 'WQsecret-queue'],
    ['TRANSFER_AGENT_QUEUE_SID', sid('WW', 5)],
    ['TRANSFER_TASK_CHANNEL', 'secret channel with spaces'],
    ['TRANSFER_TASK_CHANNEL', 'c'.repeat(65)],
  ])('%s = %p -> misconfigured naming the variable only', (name, value) => {
    const error = misconfiguration({ ...requiredEnv(), [name]: value });
    expect(error.variable).toBe(name);
    expect(error.message).toContain(name);
    expect(error.message).not.toContain(value);
  });

  test('a setting that is not a string is misconfigured, and its value is not shown', () => {
    const error = misconfiguration({ ...requiredEnv(), TRANSFER_WORKFLOW_SID: { secret: 'object-secret' } });
    expect(error.variable).toBe('TRANSFER_WORKFLOW_SID');
    expect(error.message).not.toContain('object-secret');
  });

  test('the auth token never appears in a message about another setting', () => {
    const error = misconfiguration({ ...requiredEnv(), TWILIO_FLEX_WORKSPACE_SID: 'nope' });
    expect(error.message).not.toContain(AUTH_TOKEN);
  });
});

describe('parseSettings: optional settings and defaults', () => {
  test('defaults when only the required settings are set', () => {
    const settings = parseSettings(requiredEnv());
    expect(settings.defaultWorkflowSid).toBeUndefined();
    expect(settings.allowedWorkflowSids).toBeUndefined();
    expect(settings.agentQueueSid).toBeUndefined();
    expect(settings.defaultTaskChannel).toBeUndefined();
    expect([...settings.allowedOrigins]).toEqual(['https://flex.twilio.com']);
    expect([...settings.allowedRoles].sort()).toEqual(['admin', 'agent', 'supervisor']);
    expect(settings.basicAuth).toBeUndefined();
  });

  test('the optional defaults are read when set', () => {
    const workflow = sid('WW', 1);
    const queue = sid('WQ', 2);
    const settings = parseSettings({
      ...requiredEnv(),
      TRANSFER_WORKFLOW_SID: workflow,
      TRANSFER_AGENT_QUEUE_SID: queue,
      TRANSFER_TASK_CHANNEL: 'chat',
    });
    expect(settings.defaultWorkflowSid).toBe(workflow);
    expect(settings.agentQueueSid).toBe(queue);
    expect(settings.defaultTaskChannel).toBe('chat');
  });

  test.each<[SettingName, string, (s: ReturnType<typeof parseSettings>) => ReadonlySet<string> | undefined, string[]]>([
    [
      'TRANSFER_ALLOWED_ORIGINS',
      'https://flex.twilio.com, https://my-flex.example.com',
      (s) => s.allowedOrigins,
      ['https://flex.twilio.com', 'https://my-flex.example.com'],
    ],
    ['TRANSFER_ALLOWED_ROLES', 'supervisor,admin', (s) => s.allowedRoles, ['supervisor', 'admin']],
    ['TRANSFER_ALLOWED_WORKFLOW_SIDS', ` ${sid('WW', 1)} ,${sid('WW', 2)}`, (s) => s.allowedWorkflowSids, [sid('WW', 1), sid('WW', 2)]],
  ])('%s is a comma list, items trimmed', (name, value, pick, expected) => {
    expect([...(pick(parseSettings({ ...requiredEnv(), [name]: value })) ?? [])].sort()).toEqual(expected.sort());
  });

  test('a configured role list replaces the default one', () => {
    const roles = parseSettings({ ...requiredEnv(), TRANSFER_ALLOWED_ROLES: 'supervisor' }).allowedRoles;
    expect(roles.has('agent')).toBe(false);
    expect(roles.has('supervisor')).toBe(true);
  });

  test('HTTP Basic is enabled when user and password are both set', () => {
    const settings = parseSettings({ ...requiredEnv(), TRANSFER_BASIC_AUTH_USER: 'studio', TRANSFER_BASIC_AUTH_PASSWORD: 'pa:ss word' });
    expect(settings.basicAuth).toEqual({ user: 'studio', password: 'pa:ss word' });
  });

  test.each<Environment>([{ TRANSFER_BASIC_AUTH_USER: 'studio' }, { TRANSFER_BASIC_AUTH_PASSWORD: 'secret' }, {}])(
    'HTTP Basic is disabled unless both are set (%p)',
    (extra) => {
      expect(parseSettings({ ...requiredEnv(), ...extra }).basicAuth).toBeUndefined();
    },
  );
});

describe('readSettings', () => {
  test('reads the same settings as parseSettings', () => {
    const env = { ...requiredEnv(), TRANSFER_TASK_CHANNEL: 'voice' };
    expect(readSettings(env)).toEqual(parseSettings(env));
  });

  test('a deployment fixed by setting the missing variable works without a restart', () => {
    const env = requiredEnv();
    delete env.TWILIO_FLEX_WORKSPACE_SID;
    expect(misconfiguration(env, readSettings).variable).toBe('TWILIO_FLEX_WORKSPACE_SID');
    // Still failing on a second call (a failure is not remembered as success).
    expect(misconfiguration(env, readSettings).variable).toBe('TWILIO_FLEX_WORKSPACE_SID');
    expect(readSettings({ ...env, TWILIO_FLEX_WORKSPACE_SID: WORKSPACE_SID }).workspaceSid).toBe(WORKSPACE_SID);
  });

  test('a changed setting is picked up', () => {
    const first = readSettings({ ...requiredEnv(), TRANSFER_WORKFLOW_SID: sid('WW', 1) });
    const second = readSettings({ ...requiredEnv(), TRANSFER_WORKFLOW_SID: sid('WW', 2) });
    expect(first.defaultWorkflowSid).toBe(sid('WW', 1));
    expect(second.defaultWorkflowSid).toBe(sid('WW', 2));
  });

  test('a setting that turns malformed is reported', () => {
    readSettings(requiredEnv());
    expect(misconfiguration({ ...requiredEnv(), TRANSFER_AGENT_QUEUE_SID: 'nope' }, readSettings).variable).toBe(
      'TRANSFER_AGENT_QUEUE_SID',
    );
  });
});

describe('allowedOriginsLeniently', () => {
  test('defaults to https://flex.twilio.com', () => {
    expect([...allowedOriginsLeniently({})]).toEqual(['https://flex.twilio.com']);
  });

  test('returns the configured origins even when required settings are missing', () => {
    const origins = allowedOriginsLeniently({ TRANSFER_ALLOWED_ORIGINS: 'https://a.example.com,https://b.example.com' });
    expect([...origins].sort()).toEqual(['https://a.example.com', 'https://b.example.com']);
  });

  test.each<Environment>([{ TRANSFER_ALLOWED_ORIGINS: ' , ' }, { TRANSFER_ALLOWED_ORIGINS: 42 }, { ACCOUNT_SID: 'broken' }])(
    'never throws (%p)',
    (env) => {
      expect(() => allowedOriginsLeniently(env)).not.toThrow();
    },
  );
});
