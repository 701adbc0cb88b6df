import type { FieldProblem } from '../errors';
import {
  describeSid,
  readOneOf,
  readSid,
  readTaskChannel,
  readWholeNumber,
  type SidKind,
  type ValueRead,
  type WholeNumberRange,
} from '../value-formats';

type Params = Readonly<Record<string, unknown>>;

export const MAX_ATTRIBUTES_BYTES = 16384;
/** Deeper than any real task's attributes; checked before anything recursive touches the value. */
export const MAX_ATTRIBUTES_DEPTH = 32;
/** Keys that would reach an object's prototype in a careless merge; no Flex attribute is named so. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Nesting depth of a JSON text, counted without parsing it (JSON.parse of a huge nesting is what must be avoided). */
function jsonTextDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const character = text[index];
    if (inString) {
      if (character === '\\') index += 1;
      else if (character === '"') inString = false;
    } else if (character === '"') inString = true;
    else if (character === '{' || character === '[') deepest = Math.max(deepest, ++depth);
    else if (character === '}' || character === ']') depth -= 1;
  }
  return deepest;
}

/** Walks a parsed value without recursion: too deep, or a forbidden key, stops the walk. */
function inspectTree(root: unknown): 'too-deep' | 'forbidden-key' | 'unfaithful-number' | 'ok' {
  const pending: { value: unknown; depth: number }[] = [{ value: root, depth: 1 }];
  while (pending.length > 0) {
    const { value, depth } = pending.pop() as { value: unknown; depth: number };
    // 1e309 parses as Infinity (sent on as null); integers past 2^53 have already lost digits: the task would differ.
    if (typeof value === 'number' && (!Number.isFinite(value) || (Number.isInteger(value) && !Number.isSafeInteger(value)))) {
      return 'unfaithful-number';
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_ATTRIBUTES_DEPTH) return 'too-deep';
    for (const key of Object.keys(value)) {
      if (FORBIDDEN_KEYS.has(key)) return 'forbidden-key';
      pending.push({ value: (value as Record<string, unknown>)[key], depth: depth + 1 });
    }
  }
  return 'ok';
}

/** Reads request fields, collecting every problem before reporting them together. */
export class FieldReader {
  readonly problems: FieldProblem[] = [];
  readonly tooLarge: FieldProblem[] = [];

  constructor(private readonly params: Params) {}

  /** A string field; blank counts as absent (Studio sends unset variables as empty strings). */
  text(field: string): string | undefined {
    const value = this.params[field];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') {
      this.problems.push({ field, message: 'must be a string' });
      return undefined;
    }
    return value;
  }

  sid(field: string, kind: SidKind, options: { required: boolean }): string | undefined {
    const value = this.text(field);
    if (value === undefined) {
      if (options.required && !this.problems.some((problem) => problem.field === field)) {
        this.problems.push({ field, message: `is required (${describeSid(kind)})` });
      }
      return undefined;
    }
    return this.checked(field, readSid(kind, value));
  }

  oneOf<T extends string>(field: string, allowed: readonly T[], fallback: T): T {
    const value = this.text(field);
    if (value === undefined) return fallback;
    return this.checked(field, readOneOf(value, allowed)) ?? fallback;
  }

  /** A TaskRouter task channel's unique name. */
  taskChannel(field: string): string | undefined {
    const value = this.text(field);
    return value === undefined ? undefined : this.checked(field, readTaskChannel(value));
  }

  /** A whole number in range, as a JSON number or a decimal string such as "5". */
  integer(field: string, range: WholeNumberRange): number | undefined {
    const value = this.params[field];
    if (value === undefined || value === null || value === '') return undefined;
    return this.checked(field, readWholeNumber(value, range));
  }

  /** A JSON object, or a string holding one: at most MAX_ATTRIBUTES_DEPTH deep, MAX_ATTRIBUTES_BYTES serialized, no prototype keys. */
  attributes(field: string): Record<string, unknown> {
    const value = this.params[field];
    if (value === undefined || value === null || value === '') return {};
    let parsed: unknown = value;
    if (typeof value === 'string') {
      if (jsonTextDepth(value) > MAX_ATTRIBUTES_DEPTH)
        return this.attributeProblem(field, `must be nested at most ${MAX_ATTRIBUTES_DEPTH} levels deep`);
      try {
        parsed = JSON.parse(value);
      } catch {
        return this.attributeProblem(field, 'must be a JSON object (the string does not parse as JSON)');
      }
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      return this.attributeProblem(field, 'must be a JSON object');
    const shape = inspectTree(parsed);
    if (shape === 'too-deep') return this.attributeProblem(field, `must be nested at most ${MAX_ATTRIBUTES_DEPTH} levels deep`);
    if (shape === 'forbidden-key') return this.attributeProblem(field, 'must not use the keys __proto__, constructor or prototype');
    if (shape === 'unfaithful-number') {
      return this.attributeProblem(
        field,
        'must hold only numbers JSON carries faithfully (finite, integers within ±2^53): send larger numbers as strings',
      );
    }
    const bytes = Buffer.byteLength(JSON.stringify(parsed), 'utf8');
    if (bytes > MAX_ATTRIBUTES_BYTES) {
      this.tooLarge.push({ field, message: `must serialize to at most ${MAX_ATTRIBUTES_BYTES} bytes (got ${bytes})` });
      return {};
    }
    return parsed as Record<string, unknown>;
  }

  private attributeProblem(field: string, message: string): Record<string, unknown> {
    this.problems.push({ field, message });
    return {};
  }

  /** The value read, or undefined with its problem recorded against the field. */
  private checked<T>(field: string, read: ValueRead<T>): T | undefined {
    if (read.ok) return read.value;
    this.problems.push({ field, message: read.problem });
    return undefined;
  }
}
