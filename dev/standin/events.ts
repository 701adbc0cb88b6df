/**
 * TaskRouter's workspace event callbacks. Every change the stand-in makes to a
 * task or reservation is posted, as TaskRouter posts it, to the workspace's
 * EventCallbackUrl: form-encoded, with the real field names, signed with
 * X-Twilio-Signature by the helper library's own function, after the API
 * answer that caused it, in order per workspace, and only the event types the
 * workspace's EventsFilter names (all when it has none).
 *
 * A delivery that fails (no 2xx, or no answer) is recorded and tried once more
 * after `retryDelayMs`, before the workspace's next event goes out. Twilio
 * documents that the EventCallbackUrl supports its webhook connection
 * overrides (which include a retry count) but not, in the Events reference,
 * how often TaskRouter itself retries: the stand-in's single retry is a choice
 * that lets tests see a repeated event.
 */
import { randomUUID } from 'node:crypto';
import { getExpectedTwilioSignature } from 'twilio';
import type { DeliveredEvent, EventDelivery, EventDeliveryRequest } from './types';

/** An event as the store produced it, before it is addressed to a callback. */
export interface TaskRouterEvent {
  workspaceSid: string;
  eventType: string;
  taskSid?: string;
  reservationSid?: string;
  workerSid?: string;
  form: Record<string, string>;
}

export interface WorkspaceCallback {
  url: string;
  /** Event types to post; undefined posts every type. */
  eventsFilter: readonly string[] | undefined;
}

export interface EventBusSettings {
  authToken: string;
  delivery: EventDelivery;
  retryDelayMs: number;
}

/** TaskRouter expects an answer within 15 seconds (Events reference). */
const CALLBACK_TIMEOUT_MS = 15_000;

/** The default delivery: an HTTP POST with the global fetch, to wherever the workspace's callback points. */
export const httpEventDelivery: EventDelivery = async ({ url, form, headers }) => {
  const response = await fetch(url, {
    method: 'POST',
    headers,
    body: new URLSearchParams(form).toString(),
    redirect: 'manual',
    signal: AbortSignal.timeout(CALLBACK_TIMEOUT_MS),
  });
  await response.arrayBuffer().catch(() => undefined);
  return { status: response.status };
};

/** The event types a workspace's EventsFilter names (comma separated, blanks around names allowed); undefined when it names none. */
export function parseEventsFilter(filter: string | null): string[] | undefined {
  const types = (filter ?? '')
    .split(',')
    .map((type) => type.trim())
    .filter((type) => type !== '');
  return types.length > 0 ? types : undefined;
}

export class EventBus {
  readonly delivered: DeliveredEvent[] = [];
  /** The tail of each workspace's delivery chain. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly inFlight = new Set<Promise<void>>();
  /** Bumped by clear(): deliveries queued before it are dropped. */
  private generation = 0;

  constructor(
    private readonly settings: () => EventBusSettings,
    private readonly callbackOf: (workspaceSid: string) => WorkspaceCallback | undefined,
  ) {}

  clear(): void {
    this.generation += 1;
    this.chains.clear();
    this.delivered.length = 0;
  }

  /** Queues the event for the workspace's callback as it is configured now; nothing when none is set or the filter leaves it out. */
  publish(event: TaskRouterEvent): void {
    const callback = this.callbackOf(event.workspaceSid);
    if (!callback) return;
    if (callback.eventsFilter && !callback.eventsFilter.includes(event.eventType)) return;
    const { authToken } = this.settings();
    const request: EventDeliveryRequest = {
      url: callback.url,
      form: event.form,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': getExpectedTwilioSignature(authToken, callback.url, event.form),
        // Twilio's webhooks carry one idempotency token per event, the same on a retry.
        'i-twilio-idempotency-token': randomUUID(),
        'user-agent': 'TwilioProxy/1.1',
      },
    };
    const generation = this.generation;
    const previous = this.chains.get(event.workspaceSid) ?? Promise.resolve();
    const next = previous.then(() => this.deliver(event, request, generation));
    this.chains.set(event.workspaceSid, next);
    this.inFlight.add(next);
    void next.finally(() => this.inFlight.delete(next));
  }

  /** Resolves once every queued delivery (retries included) has finished, including those queued while waiting. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private async deliver(event: TaskRouterEvent, request: EventDeliveryRequest, generation: number): Promise<void> {
    // After the API answer that caused the event, as Twilio posts callbacks.
    await new Promise((resolve) => setImmediate(resolve));
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      if (generation !== this.generation) return;
      if (attempt === 2) {
        const delay = this.settings().retryDelayMs;
        await new Promise((resolve) => setTimeout(resolve, delay));
        if (generation !== this.generation) return;
      }
      const outcome = await this.attempt(request);
      if (generation !== this.generation) return;
      this.delivered.push({
        eventType: event.eventType,
        taskSid: event.taskSid,
        reservationSid: event.reservationSid,
        workerSid: event.workerSid,
        url: request.url,
        status: outcome.status,
        ...(outcome.error === undefined ? {} : { error: outcome.error }),
        attempt,
        form: request.form,
      });
      if (outcome.status !== null && outcome.status >= 200 && outcome.status < 300) return;
    }
  }

  private async attempt(request: EventDeliveryRequest): Promise<{ status: number | null; error?: string }> {
    try {
      const { status } = await this.settings().delivery(request);
      return { status };
    } catch (error) {
      return { status: null, error: error instanceof Error ? error.message : String(error) };
    }
  }
}
