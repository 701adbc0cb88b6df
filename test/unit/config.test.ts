import {
  allowedOriginsLeniently,
  type Environment,
  environmentOf,
  parseSettings,
  readSettings,
  SETTING_NAMES,
  type SettingName,
  settingsProblems,
} from '../../src/config';
import { MisconfiguredError } from '../../src/errors';
import { ACCOUNT_SID, AUTH_TOKEN, requiredEnv, sid, WORKSPACE_SID } from '../support/fixtures';

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

describe('parseSettings: ownership, token cache and idempotency settings', () => {
  test('defaults when only the required settings are set', () => {
    const settings = parseSettings(requiredEnv());
    expect([...settings.unrestrictedRoles].sort()).toEqual(['admin', 'supervisor']);
    expect(settings.requireParticipant).toBe(true);
    expect(settings.tokenCacheSeconds).toBe(60);
    expect(settings.syncServiceSid).toBe('default');
    expect(settings.idempotencyTtlSeconds).toBe(86400);
  });

  test('blank values (as the Console stores unset ones) fall back to the defaults', () => {
    const settings = parseSettings({
      ...requiredEnv(),
      TRANSFER_UNRESTRICTED_ROLES: '',
      TRANSFER_REQUIRE_PARTICIPANT: ' ',
      TRANSFER_TOKEN_CACHE_SECONDS: '',
      TRANSFER_SYNC_SERVICE_SID: '',
      TRANSFER_IDEMPOTENCY_TTL_SECONDS: '  ',
    });
    expect([...settings.unrestrictedRoles].sort()).toEqual(['admin', 'supervisor']);
    expect(settings.requireParticipant).toBe(true);
    expect(settings.tokenCacheSeconds).toBe(60);
    expect(settings.syncServiceSid).toBe('default');
    expect(settings.idempotencyTtlSeconds).toBe(86400);
  });

  test('set values are read', () => {
    const service = sid('IS', 0x5c);
    const settings = parseSettings({
      ...requiredEnv(),
      TRANSFER_UNRESTRICTED_ROLES: ' admin , wfo.team_lead ',
      TRANSFER_REQUIRE_PARTICIPANT: 'false',
      TRANSFER_TOKEN_CACHE_SECONDS: '0',
      TRANSFER_SYNC_SERVICE_SID: service,
      TRANSFER_IDEMPOTENCY_TTL_SECONDS: '3600',
    });
    expect([...settings.unrestrictedRoles].sort()).toEqual(['admin', 'wfo.team_lead']);
    expect(settings.requireParticipant).toBe(false);
    expect(settings.tokenCacheSeconds).toBe(0);
    expect(settings.syncServiceSid).toBe(service);
    expect(settings.idempotencyTtlSeconds).toBe(3600);
  });

  test.each([
    ['true', true],
    ['TRUE', true],
    [' False ', false],
    ['false', false],
  ])('TRANSFER_REQUIRE_PARTICIPANT %p is %p', (value, expected) => {
    expect(parseSettings({ ...requiredEnv(), TRANSFER_REQUIRE_PARTICIPANT: value }).requireParticipant).toBe(expected);
  });

  test.each([
    ['TRANSFER_IDEMPOTENCY_TTL_SECONDS', '60', 60],
    ['TRANSFER_IDEMPOTENCY_TTL_SECONDS', '31536000', 31_536_000],
    ['TRANSFER_TOKEN_CACHE_SECONDS', '3600', 3600],
  ] as const)('%s = %s is accepted (a bound)', (name, value, expected) => {
    const settings = parseSettings({ ...requiredEnv(), [name]: value });
    expect(name === 'TRANSFER_TOKEN_CACHE_SECONDS' ? settings.tokenCacheSeconds : settings.idempotencyTtlSeconds).toBe(expected);
  });

  test('TRANSFER_SYNC_SERVICE_SID may name the default service explicitly', () => {
    expect(parseSettings({ ...requiredEnv(), TRANSFER_SYNC_SERVICE_SID: 'default' }).syncServiceSid).toBe('default');
  });

  // Each value is distinctive so the test can prove it does not appear in the message.
  test.each<[SettingName, string]>([
    ['TRANSFER_REQUIRE_PARTICIPANT', 'secret-yes'],
    ['TRANSFER_REQUIRE_PARTICIPANT', 'on'],
    ['TRANSFER_UNRESTRICTED_ROLES', ' , ,'],
    ['TRANSFER_SYNC_SERVICE_SID', 'ISsecret-service'],
    ['TRANSFER_SYNC_SERVICE_SID', sid('WS', 0x77)],
    ['TRANSFER_IDEMPOTENCY_TTL_SECONDS', '59'],
    ['TRANSFER_IDEMPOTENCY_TTL_SECONDS', '31536001'],
    ['TRANSFER_IDEMPOTENCY_TTL_SECONDS', '86400.5'],
    ['TRANSFER_IDEMPOTENCY_TTL_SECONDS', 'a-day-secret'],
    ['TRANSFER_TOKEN_CACHE_SECONDS', '3601'],
    ['TRANSFER_TOKEN_CACHE_SECONDS', '-5'],
    ['TRANSFER_BASIC_AUTH_USER', 'studio:secret-colon'],
  ])('%s = %p -> misconfigured naming the variable only', (name, value) => {
    const error = misconfiguration({ ...requiredEnv(), [name]: value });
    expect(error.variable).toBe(name);
    expect(error.message).toContain(name);
    expect(error.message).not.toContain(value.trim());
  });
});

describe('settingsProblems', () => {
  test('no problems with a usable environment', () => {
    expect(settingsProblems(requiredEnv())).toEqual([]);
    expect(settingsProblems({ ...requiredEnv(), TRANSFER_SYNC_SERVICE_SID: sid('IS', 1), TRANSFER_REQUIRE_PARTICIPANT: 'false' })).toEqual(
      [],
    );
  });

  test('lists every problem at once, one per variable, each naming it', () => {
    const problems = settingsProblems({
      AUTH_TOKEN: 'short-secret-token',
      TWILIO_FLEX_WORKSPACE_SID: 'WSsecret-workspace',
      TRANSFER_AGENT_QUEUE_SID: 'WQsecret-queue',
      TRANSFER_REQUIRE_PARTICIPANT: 'secret-maybe',
      TRANSFER_SYNC_SERVICE_SID: 'ISsecret',
      TRANSFER_IDEMPOTENCY_TTL_SECONDS: '7',
    });
    expect(problems.map((problem) => problem.variable).sort()).toEqual(
      [
        'ACCOUNT_SID',
        'AUTH_TOKEN',
        'TWILIO_FLEX_WORKSPACE_SID',
        'TRANSFER_AGENT_QUEUE_SID',
        'TRANSFER_REQUIRE_PARTICIPANT',
        'TRANSFER_SYNC_SERVICE_SID',
        'TRANSFER_IDEMPOTENCY_TTL_SECONDS',
      ].sort(),
    );
    for (const problem of problems) {
      expect(problem).toBeInstanceOf(MisconfiguredError);
      expect(problem.message).toContain(problem.variable);
    }
    const text = problems.map((problem) => problem.message).join('\n');
    for (const secret of ['short-secret-token', 'WSsecret-workspace', 'WQsecret-queue', 'secret-maybe', 'ISsecret']) {
      expect(text).not.toContain(secret);
    }
  });

  test('a required setting that is not a string is one problem, not two', () => {
    const problems = settingsProblems({ ...requiredEnv(), AUTH_TOKEN: 12345 });
    expect(problems.map((problem) => problem.variable)).toEqual(['AUTH_TOKEN']);
  });

  test('parseSettings throws the first of the listed problems', () => {
    const env = { ...requiredEnv(), TRANSFER_WORKFLOW_SID: 'nope', TRANSFER_IDEMPOTENCY_TTL_SECONDS: '1' };
    const listed = settingsProblems(env);
    expect(listed).toHaveLength(2);
    expect(misconfiguration(env).variable).toBe(listed[0]?.variable);
  });
});

describe('environmentOf', () => {
  test('picks only the settings out of the runtime’s context', () => {
    const context = {
      ...requiredEnv(),
      DOMAIN_NAME: 'example.twil.io',
      PATH: '/x',
      getTwilioClient: () => undefined,
      SECRET_OF_ANOTHER_APP: 's',
    };
    const env = environmentOf(context);
    expect(Object.keys(env).sort()).toEqual([...SETTING_NAMES].sort());
    expect(env.ACCOUNT_SID).toBe(ACCOUNT_SID);
    expect(env.TRANSFER_WORKFLOW_SID).toBeUndefined();
    expect(JSON.stringify(env)).not.toContain('SECRET_OF_ANOTHER_APP');
    expect(parseSettings(env).workspaceSid).toBe(WORKSPACE_SID);
  });
});
