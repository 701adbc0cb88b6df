/**
 * Drift: what the code reads and what the documentation lists must not part
 * ways. The settings are those config.ts reads, the request fields those the
 * functions' own steps read (recorded while they run), the functions those
 * the registry lists: each checked against the README's settings table,
 * `.env.example`, `docs/api.md`'s field tables and the files in src/functions.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { getExpectedTwilioSignature } from 'twilio';
import { type Environment, SETTING_NAMES, settingsProblems } from '../../src/config';
import { handle } from '../../src/core/engine';
import type { IncomingRequest } from '../../src/core/request';
import { FUNCTION_NAMES, FUNCTIONS, type FunctionName } from '../../src/registry';
import { buildDependencies } from '../../src/runtime/dependencies';
import { requiredEnv, AUTH_TOKEN } from '../support/fixtures';

const ROOT = resolve(__dirname, '..', '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

/** The lines of the section under `heading` (up to the next heading of the same or a higher level). */
function sectionOf(markdown: string, heading: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line.trim() === heading);
  if (start < 0) throw new Error(`no heading "${heading}"`);
  const level = heading.indexOf(' ');
  const end = lines.findIndex((line, index) => index > start && /^#+ /.test(line) && line.indexOf(' ') <= level);
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** The markdown tables among these lines: each a list of rows, each a list of cells (header and separator rows included). */
function tablesIn(lines: string[]): string[][][] {
  const tables: string[][][] = [];
  let current: string[][] | undefined;
  for (const line of lines) {
    if (!line.trim().startsWith('|')) {
      current = undefined;
      continue;
    }
    if (current === undefined) tables.push((current = []));
    current.push(
      line
        .trim()
        .replace(/^\||\|$/g, '')
        .split('|')
        .map((cell) => cell.trim()),
    );
  }
  return tables;
}

/** Every backticked name in the first column of a table's body rows (a row may name two: `A`, `B`). */
function firstColumnNames(table: string[][]): string[] {
  return table.slice(2).flatMap((row) => [...(row[0] ?? '').matchAll(/`([^`]+)`/g)].map((match) => match[1] as string));
}

function missingFrom(listed: Iterable<string>, expected: Iterable<string>): string[] {
  const have = new Set(listed);
  return [...new Set(expected)].filter((name) => !have.has(name));
}

describe('settings: what config.ts reads is documented', () => {
  /** The names config.ts reads, recorded from the environment it is given (not a list written here). */
  function settingsRead(): string[] {
    const names = new Set<string>();
    const recording = new Proxy<Environment>(
      {},
      {
        get(_target, name) {
          if (typeof name === 'string') names.add(name);
          return undefined;
        },
      },
    );
    settingsProblems(recording);
    return [...names];
  }

  const readmeNames = (): string[] => {
    const [table] = tablesIn(sectionOf(read('README.md'), '## Settings'));
    if (table === undefined) throw new Error('no table under ## Settings in README.md');
    return firstColumnNames(table);
  };
  const envExampleNames = (): string[] =>
    read('.env.example')
      .split('\n')
      .map((line) => /^([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
      .filter((name): name is string => name !== undefined);

  test('every setting config.ts reads is one of SETTING_NAMES (the names taken from the runtime context)', () => {
    expect(missingFrom(SETTING_NAMES, settingsRead())).toEqual([]);
  });

  test("the README's settings table lists every setting, and nothing else", () => {
    expect(missingFrom(readmeNames(), SETTING_NAMES)).toEqual([]);
    expect(missingFrom(SETTING_NAMES, readmeNames())).toEqual([]);
  });

  test('.env.example lists every setting, and nothing else', () => {
    expect(missingFrom(envExampleNames(), SETTING_NAMES)).toEqual([]);
    expect(missingFrom(SETTING_NAMES, envExampleNames())).toEqual([]);
  });
});

describe('request fields: what the functions read is documented in docs/api.md', () => {
  const DOMAIN = 'example-1234.twil.io';

  /**
   * The fields a function's steps read, recorded from the request they are
   * given: a signed form request with no fields at all, so every field is
   * looked at and reported missing or absent, and nothing is sent to Twilio.
   */
  async function fieldsRead(name: FunctionName): Promise<string[]> {
    const names = new Set<string>();
    const params = new Proxy<Record<string, unknown>>(
      {},
      {
        get(_target, field) {
          if (typeof field === 'string') names.add(field);
          return undefined;
        },
        has(_target, field) {
          if (typeof field === 'string') names.add(field);
          return false;
        },
      },
    );
    const path = FUNCTIONS[name].path;
    const incoming: IncomingRequest = {
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': getExpectedTwilioSignature(AUTH_TOKEN, `https://${DOMAIN}${path}`, {}),
      },
      headersKnown: true,
      params,
      domainName: DOMAIN,
      path,
      reservedFieldMisused: false,
    };
    const noTwilio = () => ({
      send: () => Promise.reject(Object.assign(new Error('no Twilio in this test'), { code: 'ECONNREFUSED' })),
      close: () => undefined,
    });
    const outcome = await handle({
      incoming,
      deps: buildDependencies(requiredEnv(), { newSender: noTwilio }),
      handler: FUNCTIONS[name].handler,
    });
    expect(outcome.upstreamAttempts).toBe(0);
    return [...names];
  }

  /**
   * A function's field table in docs/api.md: the table with a column headed by
   * its path, else the first table under the heading that names its path.
   */
  function documentedFields(name: FunctionName): string[] {
    const path = FUNCTIONS[name].path;
    const docs = read('docs/api.md');
    const all = tablesIn(docs.split('\n'));
    const byColumn = all.find((table) => table[0]?.[0] === 'field' && table[0].includes(path));
    if (byColumn !== undefined) return firstColumnNames(byColumn);
    const heading = docs.split('\n').find((line) => /^#+ /.test(line) && line.includes(`${path}\``));
    const [underHeading] = heading === undefined ? [] : tablesIn(sectionOf(docs, heading));
    if (underHeading?.[0]?.[0] !== 'field') throw new Error(`docs/api.md has no field table for ${path}`);
    return firstColumnNames(underHeading);
  }

  test.each(FUNCTION_NAMES)('%s: every field it reads has a row in its docs/api.md field table', async (name) => {
    const fields = await fieldsRead(name);
    expect(fields.length).toBeGreaterThan(0);
    expect(missingFrom(documentedFields(name), fields)).toEqual([]);
  });
});

describe('functions: the registry and src/functions agree', () => {
  const files = readdirSync(join(ROOT, 'src', 'functions'))
    .filter((file) => file.endsWith('.ts'))
    .map((file) => file.replace(/\.ts$/, ''));

  test('the registry lists exactly the files in src/functions', () => {
    expect([...FUNCTION_NAMES].sort()).toEqual([...files].sort());
  });

  test.each(FUNCTION_NAMES)('%s: its file adapts its own entry, deployed at /<name>', (name) => {
    expect(FUNCTIONS[name].path).toBe(`/${name}`);
    expect(read(`src/functions/${name}.ts`)).toContain(`runtimeHandler('${name}')`);
  });
});
