/**
 * What the plugin does when Flex's transfer directory picks a target, and the rules around it, without importing Flex:
 * the plugin (ConversationTransfersPlugin.tsx) hands Flex's actions to this module, and the repository's end-to-end
 * test drives it in Node against the real functions.
 *
 * - `transferTask(payload, original)` replaces Flex's `TransferTask` action. A Flex Conversations task (attributes
 *   `flexInteractionSid` and `flexInteractionChannelSid`) goes to `/transfer-to-agent` (target `WK…`) or
 *   `/transfer-to-queue` (target `WQ…`), warm or cold from `payload.options.mode`; every other task (voice, legacy
 *   chat) goes to `original(payload)` untouched.
 * - One transfer request per task at a time: a second TransferTask while one is in flight is refused with a notice,
 *   and `beforeWrapup` aborts WrapupTask / CompleteTask of that task until the request has its answer.
 * - When Flex's native conversation transfers are on, every task goes to the original action (and the plugin does not
 *   replace the action at all when they are on at start).
 */
import { errorNotificationId, NOTIFICATION_IDS, type NotificationContext } from './notification-catalog';
import {
  type PendingTransfer,
  type TransferClient,
  TransferError,
  type TransferOutcome,
  transferArgsFromTask,
  type TransferType,
} from './transfer-client';

/** The part of Flex's `ITask` this module reads. */
export interface TaskLike {
  /** The reservation, `WR…`. */
  sid?: string;
  /** The task, `WT…`. */
  taskSid?: string;
  taskChannelUniqueName?: string;
  attributes?: unknown;
}

/** Flex's TransferTask payload: the directory sends `{ task, targetSid, options: { mode: 'WARM' | 'COLD' } }`. */
export interface TransferTaskPayloadLike {
  task?: TaskLike;
  sid?: string;
  targetSid?: string;
  options?: { mode?: unknown } & Record<string, unknown>;
}

/** Flex's WrapupTask / CompleteTask payload. */
export interface TaskActionPayloadLike {
  task?: TaskLike;
  sid?: string;
}

export type Notify = (id: string, context?: NotificationContext) => void;

export interface TransferActionsOptions {
  client: TransferClient;
  notify: Notify;
  /** Whether Flex's native conversation transfers are on now (read at every action). */
  nativeTransfersEnabled?: () => boolean;
  /** Where the reasons for standing down go; default console.info. */
  log?: (message: string) => void;
}

/** Thrown (as the action's rejection) when the plugin refuses a transfer itself; the agent saw a notification. */
export class TransferRefused extends Error {
  override readonly name = 'TransferRefused';
}

/** A Flex Conversations task: its attributes name the interaction and its channel. */
export function isConversationTask(task: TaskLike | undefined): task is TaskLike {
  const attributes = task?.attributes;
  if (typeof attributes !== 'object' || attributes === null) return false;
  const { flexInteractionSid, flexInteractionChannelSid } = attributes as Record<string, unknown>;
  return typeof flexInteractionSid === 'string' && flexInteractionSid !== '' && typeof flexInteractionChannelSid === 'string';
}

/** The directory's mode: COLD is cold, WARM or none is warm (the functions' default), anything else is refused. */
export function transferTypeFromOptions(options: TransferTaskPayloadLike['options']): TransferType | undefined {
  const mode = options?.mode;
  if (mode === undefined || mode === null) return 'warm';
  if (typeof mode !== 'string') return undefined;
  const lower = mode.toLowerCase();
  return lower === 'warm' || lower === 'cold' ? lower : undefined;
}

const SID_OF = (prefix: string) => new RegExp(`^${prefix}[0-9a-fA-F]{32}$`);
const WORKER_SID = SID_OF('WK');
const QUEUE_SID = SID_OF('WQ');

type Listener = () => void;

export class TransferActions {
  private readonly client: TransferClient;
  private readonly notify: Notify;
  private readonly nativeTransfersEnabled: () => boolean;
  private readonly log: (message: string) => void;
  /** Keys (task SID and reservation SID) of tasks with a transfer request in flight. */
  private readonly inFlight = new Set<string>();
  /** Transfer tasks (`WT…`) whose cancel request is in flight. */
  private readonly cancelsInFlight = new Set<string>();
  private readonly listeners = new Set<Listener>();

  constructor(options: TransferActionsOptions) {
    this.client = options.client;
    this.notify = options.notify;
    this.nativeTransfersEnabled = options.nativeTransfersEnabled ?? (() => false);
    this.log = options.log ?? ((message) => console.info(message));
  }

  /** The replacement of Flex's TransferTask action. */
  transferTask = async (payload: TransferTaskPayloadLike, original: (payload: TransferTaskPayloadLike) => unknown): Promise<unknown> => {
    const task = payload.task;
    if (!isConversationTask(task)) return original(payload);
    if (this.nativeTransfersEnabled()) {
      this.log('conversation-transfers: Flex native conversation transfers are on; this transfer is left to Flex.');
      return original(payload);
    }
    const keys = taskKeys(task, payload.sid);
    if (keys.some((key) => this.inFlight.has(key))) {
      this.notify(NOTIFICATION_IDS.alreadyInFlight);
      throw new TransferRefused('A transfer of this task is already in flight.');
    }
    const targetSid = payload.targetSid ?? '';
    const transferType = transferTypeFromOptions(payload.options);
    if (transferType === undefined || (!WORKER_SID.test(targetSid) && !QUEUE_SID.test(targetSid))) {
      this.notify(NOTIFICATION_IDS.notATarget);
      throw new TransferRefused(
        `Not a transfer this plugin can send: target ${JSON.stringify(targetSid)}, mode ${String(payload.options?.mode)}.`,
      );
    }

    for (const key of keys) this.inFlight.add(key);
    this.changed();
    try {
      const args = { ...transferArgsFromTask(task), transferType };
      const outcome = WORKER_SID.test(targetSid)
        ? await this.client.transferToAgent({ ...args, workerSid: targetSid })
        : await this.client.transferToQueue({ ...args, queueSid: targetSid });
      this.notifySuccess(outcome);
      return outcome;
    } catch (thrown) {
      this.notifyFailure(thrown);
      throw thrown;
    } finally {
      for (const key of keys) this.inFlight.delete(key);
      this.changed();
    }
  };

  /** Listener of `beforeWrapupTask` and `beforeCompleteTask`: aborts while a transfer request of that task is in flight. */
  beforeWrapup = (payload: TaskActionPayloadLike, abort: () => void): void => {
    if (!this.isInFlight(payload)) return;
    abort();
    this.notify(NOTIFICATION_IDS.wrapupBlocked);
  };

  isInFlight(payload: TaskActionPayloadLike): boolean {
    return taskKeys(payload.task, payload.sid).some((key) => this.inFlight.has(key));
  }

  /** The conversation's transfers (`/list-transfers`), newest first. */
  async listTransfers(task: TaskLike, signal?: AbortSignal): Promise<PendingTransfer[]> {
    const { interactionSid, channelSid } = transferArgsFromTask(task);
    return (await this.client.listTransfers({ interactionSid, channelSid }, { signal })).transfers;
  }

  /**
   * Cancels a pending transfer (`/cancel-transfer`) and tells the agent how it went. Only a transfer the functions call
   * `cancelable` is sent; a second click while one cancel is in flight sends nothing. True when it was canceled.
   */
  async cancelTransfer(task: TaskLike, transfer: PendingTransfer): Promise<boolean> {
    const transferTaskSid = transfer.taskSid;
    if (transfer.cancelable !== true || transferTaskSid === null || this.cancelsInFlight.has(transferTaskSid)) return false;
    const { interactionSid, channelSid } = transferArgsFromTask(task);
    this.cancelsInFlight.add(transferTaskSid);
    try {
      await this.client.cancelTransfer({
        interactionSid,
        channelSid,
        taskSid: transferTaskSid,
        reason: 'Canceled by the transferring agent',
      });
      this.notify(NOTIFICATION_IDS.canceled);
      return true;
    } catch (thrown) {
      this.notifyFailure(thrown);
      return false;
    } finally {
      this.cancelsInFlight.delete(transferTaskSid);
      this.changed();
    }
  }

  isCancelInFlight(transfer: PendingTransfer): boolean {
    return transfer.taskSid !== null && this.cancelsInFlight.has(transfer.taskSid);
  }

  /** Called after every transfer or cancel ends (the pending view refreshes at once). Returns the unsubscribe function. */
  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    Array.from(this.listeners).forEach((listener) => listener());
  }

  private notifySuccess(outcome: TransferOutcome): void {
    this.notify(outcome.participantCloses === 'on-accept' ? NOTIFICATION_IDS.awaitingAcceptance : NOTIFICATION_IDS.transferred);
    if (outcome.warnings.length > 0) this.notify(NOTIFICATION_IDS.transferWarning, { message: outcome.warnings.join(' ') });
  }

  private notifyFailure(thrown: unknown): void {
    if (thrown instanceof TransferError) {
      const details = thrown.details?.map((problem) => `${problem.field}: ${problem.message}`).join('; ');
      const message = details ? `${thrown.message} (${details})` : thrown.message;
      this.notify(errorNotificationId(thrown.code), { message, requestId: thrown.requestId });
    } else {
      this.notify(NOTIFICATION_IDS.failed, { message: thrown instanceof Error ? thrown.message : String(thrown) });
    }
  }
}

/** The keys a task is known by in action payloads: its task SID, and its reservation SID (a payload may carry only `sid`). */
function taskKeys(task: TaskLike | undefined, sid: string | undefined): string[] {
  return [task?.taskSid, task?.sid, sid].filter((key): key is string => typeof key === 'string' && key !== '');
}
