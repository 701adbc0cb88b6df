/** One bad field of a request, as the answer's `details` lists it. */
export interface FieldProblem {
  field: string;
  message: string;
}

/** What every failure has in common (errors.ts, upstream-failures.ts): a `kind` that `http/errors.ts` maps to an answer. */
export abstract class RequestFailure extends Error {
  abstract readonly kind: string;
  /** For a failed call to Twilio: what it means for the caller's transfer or cancel (set by the core, told after the failure). */
  consequences: { notSent: string; uncertain: string } | undefined;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
