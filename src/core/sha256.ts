import { createHash } from 'node:crypto';

/** SHA-256 of a text, as hex: how tokens and Idempotency-Keys are remembered without being stored. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
