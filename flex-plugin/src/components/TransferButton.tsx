import React, { useEffect, useState } from 'react';

import type { TaskLike, TransferActions } from '../transfer-actions';

export interface TransferButtonProps {
  task?: TaskLike;
  actions: TransferActions;
  /** Opens Flex's transfer directory for the task (the plugin passes `Actions.invokeAction('ShowDirectory', { task })`). */
  openDirectory: (task: TaskLike) => void;
}

/**
 * "Transfer" in the task canvas header of a conversation task. Flex shows its own Transfer for conversations only when
 * its native conversation transfers are on, and then this plugin stands down; so this button opens Flex's own
 * directory, whose choice comes back through the replaced TransferTask action. Disabled while a transfer of the task
 * is in flight.
 */
export function TransferButton({ task, actions, openDirectory }: TransferButtonProps): JSX.Element | null {
  const [busy, setBusy] = useState(() => task !== undefined && actions.isInFlight({ task }));
  useEffect(() => {
    const update = () => setBusy(task !== undefined && actions.isInFlight({ task }));
    update();
    return actions.onChange(update);
  }, [actions, task]);
  if (task === undefined) return null;
  return (
    <button type="button" disabled={busy} aria-busy={busy} onClick={() => openDirectory(task)}>
      {busy ? 'Transferring…' : 'Transfer'}
    </button>
  );
}
