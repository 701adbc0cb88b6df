import type { TargetType, TransferType } from './transfer-request';

/** The 201 body of a transfer. */
export interface TransferResult {
  inviteSid: string;
  interactionSid: string;
  channelSid: string;
  taskSid: string | null;
  target: { type: TargetType; sid: string };
  transferType: TransferType;
  participantClosed: boolean;
  warnings: string[];
}
