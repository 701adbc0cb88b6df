import type { Environment, SettingName } from './config';
import { MisconfiguredError } from './errors';
import {
  isSid,
  readCommaList,
  readFlag,
  readMatching,
  readOneOf,
  readSid,
  readTaskChannel,
  readWholeNumber,
  type SidKind,
  type ValueRead,
  type WholeNumberRange,
} from './value-formats';

/**
 * Reads settings from the environment with the value readers request fields
 * use (value-formats.ts), collecting every problem instead of stopping at the
 * first: config.ts reports them all, or throws the first.
 */
export class SettingsReader {
  readonly problems: MisconfiguredError[] = [];

  constructor(private readonly env: Environment) {}

  /** A set value, trimmed; blank counts as not set (the Console stores empty strings). */
  optional(name: SettingName): string | undefined {
    const value = this.env[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') return this.fail(name, 'must be a string');
    const trimmed = value.trim();
    return trimmed === '' ? undefined : trimmed;
  }

  required(name: SettingName): string {
    const value = this.optional(name);
    if (value === undefined && !this.hasProblem(name)) this.fail(name, 'is not set');
    return value ?? '';
  }

  sid(name: SettingName, kind: SidKind, value: string | undefined): string | undefined {
    if (value === undefined || value === '') return value;
    return this.checked(name, readSid(kind, value));
  }

  /** A comma list of SIDs of one kind; undefined when not set. */
  sidList(name: SettingName, kind: SidKind, listShape: string): string[] | undefined {
    if (this.optional(name) === undefined) return undefined;
    const sids = this.commaList(name, '');
    if (sids.some((sid) => !isSid(kind, sid))) this.fail(name, `must be ${listShape}`);
    return sids;
  }

  matching(name: SettingName, value: string | undefined, pattern: RegExp, shape: string): string | undefined {
    if (value === undefined || value === '') return value;
    return this.checked(name, readMatching(value, pattern, shape));
  }

  taskChannel(name: SettingName): string | undefined {
    const value = this.optional(name);
    return value === undefined ? undefined : this.checked(name, readTaskChannel(value));
  }

  commaList(name: SettingName, fallback: string): string[] {
    const items = readCommaList(this.optional(name) ?? fallback);
    if (items.length === 0) this.fail(name, 'must list at least one value');
    return items;
  }

  wholeNumber(name: SettingName, fallback: number, range: WholeNumberRange): number {
    const raw = this.optional(name);
    return raw === undefined ? fallback : (this.checked(name, readWholeNumber(raw, range)) ?? fallback);
  }

  oneOf<T extends string>(name: SettingName, allowed: readonly T[], fallback: T): T {
    const raw = this.optional(name);
    return raw === undefined ? fallback : (this.checked(name, readOneOf(raw, allowed)) ?? fallback);
  }

  flag(name: SettingName, fallback: boolean): boolean {
    const raw = this.optional(name);
    return raw === undefined ? fallback : (this.checked(name, readFlag(raw)) ?? fallback);
  }

  fail(name: SettingName, problem: string): undefined {
    this.problems.push(new MisconfiguredError({ variable: name, problem }));
    return undefined;
  }

  private checked<T>(name: SettingName, read: ValueRead<T>): T | undefined {
    return read.ok ? read.value : this.fail(name, read.problem);
  }

  private hasProblem(name: SettingName): boolean {
    return this.problems.some((problem) => problem.variable === name);
  }
}
