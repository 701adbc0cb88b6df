/**
 * The HTTP face of the stand-in: a thin wrapper that turns each request into
 * an exchange (routing, checks, recording, faults, latency all live there) and
 * each outcome into an answer or a dropped socket. Loopback only.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { jsonAnswer, StandinNetworkError, twilioError } from './answers';
import type { StandinResponse } from './types';

/** The parts of a request known before its body is read. */
export interface RequestHead {
  method: string;
  url: string;
  headers: Record<string, string>;
}

export interface Transport {
  signal?: AbortSignal;
  /** Which TCP connection carried the request; 0 in-process. */
  connection: number;
}

export type Exchange = (head: RequestHead, readBody: () => Promise<string>, transport: Transport) => Promise<StandinResponse>;

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

export async function serveHttp(exchange: Exchange, port: number): Promise<RunningServer> {
  const sockets = new Set<Socket>();
  const connectionIds = new WeakMap<Socket, number>();
  let connectionCount = 0;

  const server = createServer((request, response) => void answer(exchange, request, response, connectionIds.get(request.socket) ?? 0));
  server.on('connection', (socket) => {
    sockets.add(socket);
    connectionIds.set(socket, ++connectionCount);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: boundPort } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${boundPort}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function answer(exchange: Exchange, request: IncomingMessage, response: ServerResponse, connection: number): Promise<void> {
  const hungUp = new AbortController();
  response.on('close', () => {
    if (!response.writableFinished) hungUp.abort();
  });
  const headers = flatHeaders(request);
  // A redirected request names the Twilio host it was meant for; a direct one is routed by its Host header.
  const host = headers['x-standin-original-host'] ?? headers.host ?? '127.0.0.1';
  const head: RequestHead = { method: request.method ?? 'GET', url: `https://${host}${request.url ?? '/'}`, headers };
  try {
    const outcome = await exchange(head, () => readBody(request), { signal: hungUp.signal, connection });
    response.writeHead(outcome.status, outcome.headers);
    response.end(outcome.body);
  } catch (error) {
    if (error instanceof StandinNetworkError) {
      request.socket.destroy();
      return;
    }
    if (response.headersSent || response.destroyed) return;
    const failure = jsonAnswer(500, { ...twilioError(500), message: `Stand-in failure: ${String(error)}` });
    response.writeHead(failure.status, failure.headers);
    response.end(failure.body);
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function flatHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}
