/** A request as the core sees it: fields and headers, whatever transport carried them. */

export type HeaderValue = string | string[];

export interface IncomingRequest {
  /** Lower-cased header names. */
  headers: Readonly<Record<string, HeaderValue>>;
  /** False when the runtime passed no `request` object at all: nothing is known about the headers then. */
  headersKnown: boolean;
  /** Query and body fields, without the runtime's own `request` key. */
  params: Readonly<Record<string, unknown>>;
  /** Host (and port) the function was called on, e.g. `example-1234.twil.io`. */
  domainName: string;
  /** The function's path, e.g. `/transfer-to-agent`. */
  path: string;
  /** Set when a caller's `request` field replaced the runtime's object with something not shaped like it. */
  reservedFieldMisused: boolean;
}

/** A header read once: absent, one value, or sent more than once (never taken as a credential). */
export type HeaderRead = { kind: 'absent' } | { kind: 'single'; value: string } | { kind: 'repeated' };

export function readHeader(incoming: IncomingRequest, name: string): HeaderRead {
  const value = incoming.headers[name];
  if (value === undefined) return { kind: 'absent' };
  if (typeof value === 'string') return { kind: 'single', value };
  if (value.length === 1) return { kind: 'single', value: value[0] as string };
  return { kind: 'repeated' };
}

/** The header's one value, or undefined when absent or repeated. */
export function singleHeader(incoming: IncomingRequest, name: string): string | undefined {
  const read = readHeader(incoming, name);
  return read.kind === 'single' ? read.value : undefined;
}
