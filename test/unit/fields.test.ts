import fc from 'fast-check';
import { FieldReader, MAX_ATTRIBUTES_BYTES, MAX_ATTRIBUTES_DEPTH } from '../../src/core/fields';
import { sid } from '../support/fixtures';

/** A JSON text of `depth` nested objects: depth 1 is `{}`. */
function nestedText(depth: number, open = '{"a":', close = '}'): string {
  return open.repeat(depth - 1) + '{}' + close.repeat(depth - 1);
}

/** The same nesting as an object, built without recursion or JSON.parse. */
function nestedObject(depth: number): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  let current = root;
  for (let level = 1; level < depth; level += 1) {
    const next: Record<string, unknown> = {};
    current.a = next;
    current = next;
  }
  return root;
}

/** What reading `attributes` gave: the value, the 400 problems and the 413 problems. */
function readAttributes(value: unknown) {
  const reader = new FieldReader({ attributes: value });
  const attributes = reader.attributes('attributes');
  return { attributes, problems: reader.problems, tooLarge: reader.tooLarge };
}

describe('FieldReader.attributes: nesting depth', () => {
  test('the limit is a few dozen levels', () => {
    expect(MAX_ATTRIBUTES_DEPTH).toBe(32);
  });

  test.each([
    ['an object', nestedObject],
    ['a string', nestedText],
  ])('%s nested 32 levels deep is accepted', (_label, build) => {
    const read = readAttributes(build(32));
    expect(read.problems).toEqual([]);
    expect(read.attributes).toEqual(nestedObject(32));
  });

  test.each([
    ['an object', nestedObject],
    ['a string', nestedText],
  ])('%s nested 33 levels deep is refused, naming attributes', (_label, build) => {
    const read = readAttributes(build(33));
    expect(read.problems).toEqual([{ field: 'attributes', message: expect.stringContaining('32 levels') }]);
    expect(read.attributes).toEqual({});
  });

  test.each([
    ['an object', nestedObject],
    ['a string', nestedText],
  ])('%s nested 5000 levels deep is a problem, not a crash', (_label, build) => {
    const read = readAttributes(build(5000));
    expect(read.problems.map((problem) => problem.field)).toEqual(['attributes']);
  });

  test('a string nested far deeper than JSON.parse could bear is refused without parsing it', () => {
    const read = readAttributes('['.repeat(200_000));
    expect(read.problems.map((problem) => problem.field)).toEqual(['attributes']);
  });

  test('arrays count as levels too', () => {
    const arrays = (depth: number) => '{"a":' + '['.repeat(depth - 1) + ']'.repeat(depth - 1) + '}';
    expect(readAttributes(arrays(32)).problems).toEqual([]);
    expect(readAttributes(arrays(33)).problems).toHaveLength(1);
    expect(readAttributes(JSON.parse(arrays(33))).problems).toHaveLength(1);
  });

  test('brackets inside JSON strings are not nesting', () => {
    const text = JSON.stringify({ note: '{['.repeat(100) + '\\"[{', quote: 'say "[[[["' });
    const read = readAttributes(text);
    expect(read.problems).toEqual([]);
    expect(read.attributes).toEqual(JSON.parse(text));
  });

  test('any depth of objects and arrays is accepted up to the limit and refused past it, never thrown', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 80 }),
        fc.array(fc.boolean(), { minLength: 81, maxLength: 81 }),
        fc.boolean(),
        (depth, kinds, asText) => {
          // From the inside out: the innermost `{}` is level 1; each level above is an object or an array; the top is an object.
          let text = '{}';
          for (let level = 2; level <= depth; level += 1) text = level === depth || kinds[level] ? `{"k":${text}}` : `[${text}]`;
          const read = readAttributes(asText ? text : JSON.parse(text));
          expect(read.problems).toHaveLength(depth > MAX_ATTRIBUTES_DEPTH ? 1 : 0);
        },
      ),
    );
  });
});

describe('FieldReader.attributes: keys that would reach a prototype', () => {
  test.each(['__proto__', 'constructor', 'prototype'])('%s at the top level is refused (object and string)', (key) => {
    const text = `{"${key}": {"polluted": true}, "fine": 1}`;
    for (const value of [text, JSON.parse(text) as unknown]) {
      const read = readAttributes(value);
      expect(read.problems).toEqual([{ field: 'attributes', message: expect.stringContaining(key) }]);
      expect(read.attributes).toEqual({});
    }
  });

  test.each(['__proto__', 'constructor', 'prototype'])('%s deep inside, or inside an array, is refused', (key) => {
    const deep = `{"a":{"b":{"c":[{"d":{"${key}":{"isAdmin":true}}}]}}}`;
    expect(readAttributes(deep).problems).toHaveLength(1);
    expect(readAttributes(JSON.parse(deep)).problems).toHaveLength(1);
    const atLimit = nestedText(MAX_ATTRIBUTES_DEPTH - 1).replace('{}', `{"${key}":1}`);
    expect(readAttributes(atLimit).problems).toHaveLength(1);
  });

  test.each(['proto', '__proto', 'Constructor', 'prototypes', 'constructor_id'])('a key merely like one (%s) is fine', (key) => {
    expect(readAttributes({ [key]: { x: 1 } }).problems).toEqual([]);
  });

  test('the same words as values are fine', () => {
    expect(readAttributes({ note: '__proto__', kind: 'constructor' }).problems).toEqual([]);
  });
});

describe('FieldReader.attributes: size and shape', () => {
  const sized = (bytes: number) => ({ a: 'x'.repeat(bytes - JSON.stringify({ a: '' }).length) });

  test(`exactly ${MAX_ATTRIBUTES_BYTES} bytes is accepted`, () => {
    const read = readAttributes(sized(MAX_ATTRIBUTES_BYTES));
    expect(read.problems).toEqual([]);
    expect(read.tooLarge).toEqual([]);
  });

  test.each([
    ['an object', (value: object) => value],
    ['a string', (value: object) => JSON.stringify(value)],
  ])('one byte more, given as %s, is too large (413), not invalid (400)', (_label, encode) => {
    const read = readAttributes(encode(sized(MAX_ATTRIBUTES_BYTES + 1)));
    expect(read.problems).toEqual([]);
    expect(read.tooLarge).toEqual([{ field: 'attributes', message: expect.stringContaining(String(MAX_ATTRIBUTES_BYTES)) }]);
    expect(read.attributes).toEqual({});
  });

  test('the size counts UTF-8 bytes', () => {
    expect(readAttributes({ note: 'é'.repeat(8200) }).tooLarge).toHaveLength(1);
  });

  test.each([[undefined], [null], ['']])('absent (%p) is an empty object', (value) => {
    expect(readAttributes(value)).toEqual({ attributes: {}, problems: [], tooLarge: [] });
  });

  test.each([['[1]'], ['42'], ['"text"'], ['null'], ['{not json'], [[1]], [42], [true]])('%p is not a JSON object', (value) => {
    expect(readAttributes(value).problems.map((problem) => problem.field)).toEqual(['attributes']);
  });
});

describe('FieldReader: other fields', () => {
  test('text: blank counts as absent, a non-string is a problem', () => {
    const reader = new FieldReader({ blank: '', nothing: null, number: 5, name: 'Ada' });
    expect(reader.text('blank')).toBeUndefined();
    expect(reader.text('nothing')).toBeUndefined();
    expect(reader.text('missing')).toBeUndefined();
    expect(reader.text('name')).toBe('Ada');
    expect(reader.problems).toEqual([]);
    expect(reader.text('number')).toBeUndefined();
    expect(reader.problems).toEqual([{ field: 'number', message: 'must be a string' }]);
  });

  test('sid: required and missing names the kind; malformed says how a SID looks; one problem per field', () => {
    const reader = new FieldReader({ queueSid: 'WQ123', workerSid: 42 });
    expect(reader.sid('interactionSid', 'interaction', { required: true })).toBeUndefined();
    expect(reader.sid('queueSid', 'queue', { required: true })).toBeUndefined();
    expect(reader.sid('workerSid', 'worker', { required: true })).toBeUndefined();
    expect(reader.sid('taskSid', 'task', { required: false })).toBeUndefined();
    expect(reader.problems).toEqual([
      { field: 'interactionSid', message: 'is required (an interaction SID (KD followed by 32 hexadecimal digits))' },
      { field: 'queueSid', message: 'must be a queue SID (WQ followed by 32 hexadecimal digits)' },
      { field: 'workerSid', message: 'must be a string' },
    ]);
  });

  test('sid: a well-formed one is returned', () => {
    expect(new FieldReader({ taskSid: sid('WT', 9) }).sid('taskSid', 'task', { required: true })).toBe(sid('WT', 9));
  });

  test('integer: numbers and decimal strings in range; anything else names the unit and range', () => {
    const reader = new FieldReader({ a: 5, b: '7', c: '5.5', d: 10, e: true });
    const range = { min: 0, max: 9, unit: 'points' };
    expect(reader.integer('a', range)).toBe(5);
    expect(reader.integer('b', range)).toBe(7);
    expect(reader.integer('c', range)).toBeUndefined();
    expect(reader.integer('d', range)).toBeUndefined();
    expect(reader.integer('e', range)).toBeUndefined();
    expect(reader.problems.map((problem) => problem.field)).toEqual(['c', 'd', 'e']);
    expect(reader.problems[0]?.message).toBe('must be a whole number of points from 0 to 9');
  });

  test('oneOf: the fallback when absent, a problem listing the choices when unknown', () => {
    const reader = new FieldReader({ transferType: 'hot' });
    expect(reader.oneOf('participantStatus', ['closed', 'wrapup'], 'closed')).toBe('closed');
    expect(reader.oneOf('transferType', ['warm', 'cold'], 'warm')).toBe('warm');
    expect(reader.problems).toEqual([{ field: 'transferType', message: 'must be one of: warm, cold' }]);
  });
});
