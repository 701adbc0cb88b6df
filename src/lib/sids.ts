const sid = (prefix: string): RegExp => new RegExp(`^${prefix}[0-9a-fA-F]{32}$`);

export const SID_PATTERNS = {
  account: sid('AC'),
  workspace: sid('WS'),
  workflow: sid('WW'),
  queue: sid('WQ'),
  worker: sid('WK'),
  task: sid('WT'),
  interaction: sid('KD'),
  channel: sid('UO'),
  participant: sid('UT'),
} as const;

export const TASK_CHANNEL_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
