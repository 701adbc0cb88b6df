import type { WorkspaceCallback } from '../twilio/taskrouter';
import { TtlCache } from './ttl-cache';

/** How long a workflow's check and the workspace's callback are trusted before being read again. */
export const CONFIGURATION_MEMORY_MS = 5 * 60_000;
/** How long a handled acceptance is remembered, so a repeated event costs no Twilio call. */
export const HANDLED_EVENT_MEMORY_MS = 60 * 60_000;

/**
 * What one function instance remembers between the requests it serves:
 * configuration that rarely changes (read once, kept for minutes) and the
 * acceptances it has already acted on. Never needed for correctness: a cold
 * instance reads again, and Twilio's own state makes a repeated close
 * harmless.
 */
export class InstanceMemory {
  /** Workflow SID -> whether it reaches a named agent (known-agent routing on task.transferTargetSid). */
  readonly agentWorkflows: TtlCache<boolean>;
  /** Workspace SID -> its event callback. */
  readonly workspaceCallbacks: TtlCache<WorkspaceCallback>;
  /** Sealed close instructions already carried out (by task SID). */
  readonly handledCloses: TtlCache<true>;

  constructor(readonly now: () => number = Date.now) {
    this.agentWorkflows = new TtlCache(200, now);
    this.workspaceCallbacks = new TtlCache(20, now);
    this.handledCloses = new TtlCache(5000, now);
  }

  /** The remembered value, or `read()`'s, remembered for CONFIGURATION_MEMORY_MS. */
  async recall<Value>(cache: TtlCache<Value>, key: string, read: () => Promise<Value>): Promise<Value> {
    const known = cache.get(key);
    if (known !== undefined) return known;
    const value = await read();
    cache.set(key, value, this.now() + CONFIGURATION_MEMORY_MS);
    return value;
  }
}
