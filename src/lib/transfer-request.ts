import type { Settings } from './config';
import { type FieldProblem, ForbiddenError, InvalidRequestError, PayloadTooLargeError } from './errors';
import { SID_PATTERNS, TASK_CHANNEL_PATTERN } from './sids';

export type TargetType = 'worker' | 'queue';
export type TransferType = 'warm' | 'cold';
export type ParticipantStatus = 'closed' | 'wrapup';

/** A transfer request that passed every check. */
export interface TransferRequest {
  interactionSid: string;
  channelSid: string;
  targetType: TargetType;
  /** The worker for agent transfers, the queue for queue transfers. */
  targetSid: string;
  /** Agent transfers: the queue the task goes through, when the request names one. */
  queueSid: string | undefined;
  workflowSid: string | undefined;
  taskChannel: string | undefined;
  attributes: Record<string, unknown>;
  priority: number | undefined;
  timeout: number | undefined;
  transferType: TransferType;
  participantSid: string | undefined;
  participantStatus: ParticipantStatus;
  taskSid: string | undefined;
}

export const MAX_ATTRIBUTES_BYTES = 16384;
const MAX_PRIORITY = 2147483647;
const MAX_TIMEOUT_SECONDS = 2592000;

type Params = Readonly<Record<string, unknown>>;

/** Collects every problem of a request before reporting them together. */
class FieldReader {
  readonly problems: FieldProblem[] = [];
  readonly tooLarge: FieldProblem[] = [];

  constructor(private readonly params: Params) {}

  /** A string field; blank counts as absent (Studio sends unset variables as empty strings). */
  private text(field: string): string | undefined {
    const value = this.params[field];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') {
      this.problems.push({ field, message: 'must be a string' });
      return undefined;
    }
    return value;
  }

  sid(field: string, pattern: RegExp, description: string, isRequired: boolean): string | undefined {
    const value = this.text(field);
    if (value === undefined) {
      if (isRequired && !this.problems.some((problem) => problem.field === field)) {
        this.problems.push({ field, message: `is required (${description})` });
      }
      return undefined;
    }
    if (!pattern.test(value)) {
      this.problems.push({ field, message: `must be ${description}` });
      return undefined;
    }
    return value;
  }

  oneOf<T extends string>(field: string, allowed: readonly T[], fallback: T): T {
    const value = this.text(field);
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      this.problems.push({ field, message: `must be one of: ${allowed.join(', ')}` });
      return fallback;
    }
    return value as T;
  }

  matching(field: string, pattern: RegExp, description: string): string | undefined {
    const value = this.text(field);
    if (value !== undefined && !pattern.test(value)) {
      this.problems.push({ field, message: `must be ${description}` });
      return undefined;
    }
    return value;
  }

  /** A whole number in range, as a JSON number or a decimal string such as "5". */
  integer(field: string, min: number, max: number, unit: string): number | undefined {
    const value = this.params[field];
    if (value === undefined || value === null || value === '') return undefined;
    let parsed: number | undefined;
    if (typeof value === 'number' && Number.isInteger(value)) parsed = value;
    if (typeof value === 'string' && /^\d{1,10}$/.test(value)) parsed = Number(value);
    if (parsed === undefined || parsed < min || parsed > max) {
      this.problems.push({ field, message: `must be a whole number of ${unit} from ${min} to ${max}` });
      return undefined;
    }
    return parsed;
  }

  /** A JSON object, or a string holding one, of at most MAX_ATTRIBUTES_BYTES once serialized. */
  attributes(field: string): Record<string, unknown> {
    const value = this.params[field];
    if (value === undefined || value === null || value === '') return {};
    let parsed: unknown = value;
    if (typeof value === 'string') {
      try {
        parsed = JSON.parse(value);
      } catch {
        this.problems.push({ field, message: 'must be a JSON object (the string does not parse as JSON)' });
        return {};
      }
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      this.problems.push({ field, message: 'must be a JSON object' });
      return {};
    }
    let serialized: string;
    try {
      serialized = JSON.stringify(parsed);
    } catch {
      // Thousands of nesting levels exhaust the stack.
      this.problems.push({ field, message: 'is nested too deeply' });
      return {};
    }
    const bytes = Buffer.byteLength(serialized, 'utf8');
    if (bytes > MAX_ATTRIBUTES_BYTES) {
      this.tooLarge.push({ field, message: `must serialize to at most ${MAX_ATTRIBUTES_BYTES} bytes (got ${bytes})` });
      return {};
    }
    return parsed as Record<string, unknown>;
  }
}

const HEX32 = 'followed by 32 hexadecimal digits';

/**
 * Checks every field of a transfer request at once. Throws InvalidRequestError
 * (400) listing all problems, PayloadTooLargeError (413) when oversized
 * attributes are the only problem, ForbiddenError (403) for a workflow outside
 * TRANSFER_ALLOWED_WORKFLOW_SIDS.
 */
export function parseTransferRequest(params: Params, targetType: TargetType, settings: Settings): TransferRequest {
  const read = new FieldReader(params);
  const interactionSid = read.sid('interactionSid', SID_PATTERNS.interaction, `an interaction SID (KD ${HEX32})`, true);
  const channelSid = read.sid('channelSid', SID_PATTERNS.channel, `an interaction channel SID (UO ${HEX32})`, true);
  const workerSid = targetType === 'worker' ? read.sid('workerSid', SID_PATTERNS.worker, `a worker SID (WK ${HEX32})`, true) : undefined;
  const queueSid = read.sid('queueSid', SID_PATTERNS.queue, `a queue SID (WQ ${HEX32})`, targetType === 'queue');
  const workflowSid = read.sid('workflowSid', SID_PATTERNS.workflow, `a workflow SID (WW ${HEX32})`, false);
  const taskChannel = read.matching('taskChannel', TASK_CHANNEL_PATTERN, 'a task channel unique name (letters, digits, _ or -, 1 to 64)');
  const attributes = read.attributes('attributes');
  const priority = read.integer('priority', 0, MAX_PRIORITY, 'priority points');
  const timeout = read.integer('timeout', 1, MAX_TIMEOUT_SECONDS, 'seconds');
  const transferType = read.oneOf('transferType', ['warm', 'cold'] as const, 'warm');
  const participantSid = read.sid('participantSid', SID_PATTERNS.participant, `a participant SID (UT ${HEX32})`, false);
  const participantStatus = read.oneOf('participantStatus', ['closed', 'wrapup'] as const, 'closed');
  const taskSid = read.sid('taskSid', SID_PATTERNS.task, `a task SID (WT ${HEX32})`, false);

  if (read.problems.length > 0) throw new InvalidRequestError([...read.problems, ...read.tooLarge]);
  if (read.tooLarge.length > 0) throw new PayloadTooLargeError(read.tooLarge);
  if (workflowSid !== undefined && settings.allowedWorkflowSids !== undefined && !settings.allowedWorkflowSids.has(workflowSid)) {
    throw new ForbiddenError('workflowSid is not one of the workflows this service allows (TRANSFER_ALLOWED_WORKFLOW_SIDS).');
  }

  const targetSid = targetType === 'worker' ? workerSid : queueSid;
  return {
    interactionSid: interactionSid as string,
    channelSid: channelSid as string,
    targetType,
    targetSid: targetSid as string,
    queueSid: targetType === 'worker' ? queueSid : undefined,
    workflowSid,
    taskChannel,
    attributes,
    priority,
    timeout,
    transferType,
    participantSid,
    participantStatus,
    taskSid,
  };
}
