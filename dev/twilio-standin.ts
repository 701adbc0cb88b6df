/**
 * The Twilio stand-in: a development library shared by the tests, the
 * benchmark, the examples and the local sandbox. Import from here; the
 * modules under dev/standin/ are its parts.
 */
export { DEFAULT_SYNC_SERVICE_SID, TwilioStandin } from './standin/standin';
export { StandinNetworkError, twilioError, type StandinNetworkErrorCode, type TwilioErrorBody } from './standin/answers';
export { httpEventDelivery } from './standin/events';
export { newSid } from './standin/sids';
export { type ConversationSeed, type InviteResource, PARTICIPANT_ALREADY_CLOSED } from './standin/flex';
export { ROUTE_SPECS, type RouteSpec } from './standin/routes';
export type { SyncDocumentResource } from './standin/sync';
export {
  type NamedResourceSeed,
  REASONS,
  type ReservationState,
  type TaskResource,
  type TaskSeed,
  type WorkflowSeed,
  type WorkspaceSeed,
  type WorkspaceState,
} from './standin/taskrouter';
export type { InvalidTokenAnswer } from './standin/tokens';
export type {
  Clock,
  DeliveredEvent,
  EventDelivery,
  EventDeliveryRequest,
  Fault,
  Participant,
  ParticipantState,
  RecordedRequest,
  ReservationStatus,
  Route,
  StandinRequest,
  StandinResponse,
  TaskAssignmentStatus,
  TokenGrant,
} from './standin/types';
