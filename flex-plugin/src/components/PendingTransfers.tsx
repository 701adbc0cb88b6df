import React, { useCallback, useEffect, useRef, useState } from 'react';

import type { TaskLike, TransferActions } from '../transfer-actions';
import { type PendingTransfer, TransferError } from '../transfer-client';

export const DEFAULT_REFRESH_MS = 5_000;

export interface PendingTransfersProps {
  /** Flex's task (withTaskContext passes it); nothing is shown without one. */
  task?: TaskLike;
  actions: TransferActions;
  /** How often the list is read again while the view is shown. */
  refreshMs?: number;
}

const STATUS_WORDS: Record<string, string> = {
  pending: 'waiting for an agent',
  reserved: 'offered to an agent',
  assigned: 'accepted',
  wrapping: 'accepted',
  completed: 'accepted',
  canceled: 'canceled',
};

export function describeTransfer(transfer: PendingTransfer): string {
  const kind = transfer.transferType === null ? 'Transfer' : `${transfer.transferType === 'cold' ? 'Cold' : 'Warm'} transfer`;
  const target = transfer.target === null ? '' : ` to ${transfer.target.type === 'worker' ? 'agent' : 'queue'} ${transfer.target.sid}`;
  const status = transfer.taskStatus === null ? '' : `: ${STATUS_WORDS[transfer.taskStatus] ?? transfer.taskStatus}`;
  const closes = transfer.participantCloses === 'on-accept' && transfer.cancelable === true ? ' (you leave once it is accepted)' : '';
  return `${kind}${target}${status}${closes}`;
}

/**
 * The conversation's transfers, newest first, from `/list-transfers`: read when shown, every `refreshMs` while shown,
 * and right after a transfer or cancel of this plugin ends. "Cancel" only where the functions say `cancelable: true`.
 */
export function PendingTransfers({ task, actions, refreshMs = DEFAULT_REFRESH_MS }: PendingTransfersProps): JSX.Element | null {
  const [transfers, setTransfers] = useState<PendingTransfer[] | undefined>(undefined);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [, setCanceling] = useState(0);
  const reading = useRef<AbortController | undefined>(undefined);

  const refresh = useCallback(async () => {
    if (task === undefined || reading.current !== undefined) return;
    const controller = new AbortController();
    reading.current = controller;
    try {
      const list = await actions.listTransfers(task, controller.signal);
      if (!controller.signal.aborted) {
        setTransfers(list);
        setProblem(undefined);
      }
    } catch (thrown) {
      if (!controller.signal.aborted) setProblem(thrown instanceof TransferError ? thrown.message : String(thrown));
    } finally {
      if (reading.current === controller) reading.current = undefined;
    }
  }, [actions, task]);

  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), refreshMs);
    const unsubscribe = actions.onChange(() => void refresh());
    return () => {
      clearInterval(timer);
      unsubscribe();
      reading.current?.abort();
      reading.current = undefined;
    };
  }, [actions, refresh, refreshMs]);

  if (task === undefined) return null;

  const cancel = async (transfer: PendingTransfer) => {
    setCanceling((count) => count + 1); // re-render: the button shows the cancel in flight
    await actions.cancelTransfer(task, transfer);
    setCanceling((count) => count - 1);
  };

  return (
    <section aria-label="Pending transfers" style={{ padding: '12px 16px' }}>
      <h3 style={{ margin: '0 0 8px' }}>Transfers of this conversation</h3>
      {transfers === undefined && problem === undefined && <p>Loading…</p>}
      {transfers !== undefined && transfers.length === 0 && <p>No transfers of this conversation.</p>}
      {transfers !== undefined && transfers.length > 0 && (
        <ul style={{ listStyle: 'none', margin: 0, padding: 0 }}>
          {transfers.map((transfer) => (
            <li key={transfer.inviteSid} style={{ display: 'flex', gap: 8, alignItems: 'center', marginBottom: 4 }}>
              <span>{describeTransfer(transfer)}</span>
              {transfer.createdAt !== null && (
                <time dateTime={transfer.createdAt}>{new Date(transfer.createdAt).toLocaleTimeString()}</time>
              )}
              {transfer.cancelable === true && (
                <button type="button" disabled={actions.isCancelInFlight(transfer)} onClick={() => void cancel(transfer)}>
                  Cancel
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {problem !== undefined && <p role="alert">The transfers could not be read: {problem}</p>}
    </section>
  );
}
