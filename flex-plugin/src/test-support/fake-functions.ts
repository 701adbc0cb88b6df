/**
 * Test-only: the transfer functions as the network shows them to the plugin, behind a `fetch` (jsdom has none). It
 * records every request (path and form fields) and answers from per-path handlers, which may hold an answer back
 * until the test releases it (a request "in flight"). The plugin's own code (client, action handler, view) runs for
 * real on top of it; the real functions are exercised by examples/flex-plugin/plugin-e2e.test.ts.
 */
import type { PendingTransfer, TransferResult } from '../transfer-client';

export interface Received {
  path: string;
  form: Record<string, string>;
}

export interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Handler = (form: Record<string, string>) => Answer | Promise<Answer>;

export const BASE_URL = 'https://transfers.example.test';

let counter = 0;
/** A well-formed SID with a recognisable number. */
export function sid(prefix: string): string {
  counter += 1;
  return prefix + counter.toString(16).padStart(32, '0');
}

export class FakeFunctions {
  readonly received: Received[] = [];
  private readonly handlers = new Map<string, Handler>();

  on(path: string, handler: Handler | Answer): this {
    this.handlers.set(path, typeof handler === 'function' ? handler : () => handler);
    return this;
  }

  requestsTo(path: string): Received[] {
    return this.received.filter((request) => request.path === path);
  }

  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input));
    if (url.origin !== BASE_URL) throw new TypeError(`fetch to an unexpected origin: ${url.origin}`);
    const form = Object.fromEntries(new URLSearchParams(String(init?.body ?? '')));
    this.received.push({ path: url.pathname, form });
    const handler = this.handlers.get(url.pathname);
    const answer: Answer = handler
      ? await handler(form)
      : { status: 404, body: { error: { code: 'not_found', message: 'no such function' } } };
    const headers = new Map(Object.entries(answer.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
    const text = answer.body === undefined ? '' : JSON.stringify(answer.body);
    const response = {
      status: answer.status,
      headers: { get: (name: string) => headers.get(name.toLowerCase()) ?? null },
      text: async () => text,
    };
    return response as unknown as Response;
  };
}

/** A promise the test resolves when it wants: an answer held back while the test looks at the request in flight. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

/** The 201 body of a transfer, as the functions answer it for `form`. */
export function transferAnswer(form: Record<string, string>, extra: Partial<TransferResult> = {}): Answer {
  const worker = form.workerSid !== undefined;
  const result: TransferResult = {
    inviteSid: sid('KG'),
    interactionSid: form.interactionSid ?? '',
    channelSid: form.channelSid ?? '',
    taskSid: sid('WT'),
    target: { type: worker ? 'worker' : 'queue', sid: (worker ? form.workerSid : form.queueSid) ?? '' },
    transferType: form.transferType === 'cold' ? 'cold' : 'warm',
    participantClosed: false,
    participantCloses: form.transferType === 'cold' ? 'on-accept' : null,
    warnings: [],
    ...extra,
  };
  return { status: 201, body: result };
}

export function errorAnswer(status: number, code: string, message: string, headers: Record<string, string> = {}): Answer {
  return { status, headers: { 'X-Request-Id': `req-${code}`, ...headers }, body: { error: { code, message } } };
}

export function pendingTransfer(extra: Partial<PendingTransfer> = {}): PendingTransfer {
  return {
    inviteSid: sid('KG'),
    taskSid: sid('WT'),
    target: { type: 'queue', sid: sid('WQ') },
    transferType: 'warm',
    transferredByWorkerSid: sid('WK'),
    createdAt: '2026-12-01T10:00:00.000Z',
    taskStatus: 'pending',
    participantCloses: null,
    cancelable: true,
    ...extra,
  };
}

/** A Flex Conversations task as Flex hands it to actions and components (only what the plugin reads). */
export function conversationTask(extra: Record<string, unknown> = {}) {
  return {
    sid: sid('WR'),
    taskSid: sid('WT'),
    taskChannelUniqueName: 'chat',
    taskStatus: 'assigned',
    attributes: { flexInteractionSid: sid('KD'), flexInteractionChannelSid: sid('UO'), channelType: 'web' },
    ...extra,
  };
}

/** A voice task: no interaction attributes. */
export function voiceTask() {
  return {
    sid: sid('WR'),
    taskSid: sid('WT'),
    taskChannelUniqueName: 'voice',
    taskStatus: 'assigned',
    attributes: { call_sid: sid('CA') },
  };
}

/** Waits (real time, at most `timeoutMs`) until `condition` holds. */
export async function waitUntil(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const startedAt = Date.now();
  while (!condition()) {
    if (Date.now() - startedAt > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
