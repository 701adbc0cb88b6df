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
  /** v3: 'on-accept' when /transfer-events closes the transferring participant once the new agent accepts. */
  participantCloses: 'on-accept' | null;
  warnings: string[];
}
