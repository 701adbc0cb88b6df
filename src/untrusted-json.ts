/**
 * Reading untrusted JSON-ish values (Twilio's answers, task attributes, routing
 * properties), whose shape is not guaranteed: what is there, or undefined.
 */

export function plainObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
