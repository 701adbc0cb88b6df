import { createHmac, timingSafeEqual } from 'node:crypto';
import { plainObject } from '../untrusted-json';
import { isSid } from '../value-formats';

/**
 * The instruction a cold transfer leaves in its new task's attributes: which
 * participant /transfer-events closes when the new agent accepts. Anyone who
 * can write task attributes could write one, so it carries a seal (HMAC-SHA256
 * with a key derived from AUTH_TOKEN) and only a sealed one is acted on.
 */
export interface TransferClose {
  interactionSid: string;
  channelSid: string;
  participantSid: string;
  status: 'closed' | 'wrapup';
}

export interface SealedTransferClose extends TransferClose {
  seal: string;
}

const KEY_PURPOSE = 'flex-transfer-functions/transfer-close/v1';

function sealOf(close: TransferClose, authToken: string): string {
  const key = createHmac('sha256', authToken).update(KEY_PURPOSE).digest();
  return createHmac('sha256', key)
    .update(JSON.stringify([close.interactionSid, close.channelSid, close.participantSid, close.status]))
    .digest('hex');
}

export function sealTransferClose(close: TransferClose, authToken: string): SealedTransferClose {
  return { ...close, seal: sealOf(close, authToken) };
}

/** The close instruction in task attributes, only when its seal is this account's; undefined otherwise. */
export function verifiedTransferClose(value: unknown, authToken: string): TransferClose | undefined {
  const fields = plainObject(value);
  if (fields === undefined) return undefined;
  const { interactionSid, channelSid, participantSid, status, seal } = fields;
  if (!isSid('interaction', interactionSid) || !isSid('channel', channelSid) || !isSid('participant', participantSid)) return undefined;
  if ((status !== 'closed' && status !== 'wrapup') || typeof seal !== 'string') return undefined;
  const close: TransferClose = { interactionSid, channelSid, participantSid, status };
  const expected = Buffer.from(sealOf(close, authToken), 'hex');
  const presented = Buffer.from(seal, 'hex');
  return presented.length === expected.length && timingSafeEqual(presented, expected) ? close : undefined;
}
