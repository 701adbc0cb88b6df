/** One structured line per request. It never holds a token, a password or a request body. */
export interface RequestLogEntry {
  requestId: string;
  function: string;
  status: number;
  outcome: string;
  callerKind: string | null;
  upstreamAttempts: number;
  durationMs: number;
  /** Only for `internal_error`: the name of what was thrown (never its message, which may hold data). */
  defect?: string;
}

export function writeRequestLog(entry: RequestLogEntry): void {
  console.log(JSON.stringify(entry));
}
