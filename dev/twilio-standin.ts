/**
 * The Twilio stand-in: a development library shared by the tests, the
 * benchmark, the examples and the local sandbox. Import from here; the
 * modules under dev/standin/ are its parts.
 */
export { DEFAULT_SYNC_SERVICE_SID, TwilioStandin } from './standin/standin';
export { StandinNetworkError, twilioError, type StandinNetworkErrorCode, type TwilioErrorBody } from './standin/answers';
export { newSid } from './standin/sids';
export type { InviteResource } from './standin/flex';
export type { SyncDocumentResource } from './standin/sync';
export type { NamedResourceSeed, TaskResource, TaskSeed } from './standin/taskrouter';
export type { InvalidTokenAnswer } from './standin/tokens';
export type {
  Clock,
  Fault,
  Participant,
  RecordedRequest,
  Route,
  StandinRequest,
  StandinResponse,
  TaskAssignmentStatus,
  TokenGrant,
} from './standin/types';
