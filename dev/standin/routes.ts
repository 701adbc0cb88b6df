/** Which Twilio operation a request is: product host, method and path pattern. */
import type { Route } from './types';

export type Product = 'iam' | 'flex-api' | 'taskrouter' | 'sync';

export interface RouteSpec {
  route: Route;
  product: Product;
  method: string;
  /** Twilio's path template, placeholders named as the handlers read them from `params`. */
  template: string;
}

const CHANNEL = '/v1/Interactions/{interactionSid}/Channels/{channelSid}';
const WORKSPACE = '/v1/Workspaces/{workspaceSid}';
const DOCUMENTS = '/v1/Services/{serviceSid}/Documents';

/** Every operation the stand-in answers (test/dev checks each against Twilio's OpenAPI definitions). */
export const ROUTE_SPECS: readonly RouteSpec[] = [
  { route: 'token-validate', product: 'iam', method: 'POST', template: '/v1/Accounts/{accountSid}/Tokens/validate' },
  { route: 'invite-create', product: 'flex-api', method: 'POST', template: `${CHANNEL}/Invites` },
  { route: 'invite-list', product: 'flex-api', method: 'GET', template: `${CHANNEL}/Invites` },
  { route: 'participant-list', product: 'flex-api', method: 'GET', template: `${CHANNEL}/Participants` },
  { route: 'participant-update', product: 'flex-api', method: 'POST', template: `${CHANNEL}/Participants/{participantSid}` },
  { route: 'task-fetch', product: 'taskrouter', method: 'GET', template: `${WORKSPACE}/Tasks/{taskSid}` },
  { route: 'task-update', product: 'taskrouter', method: 'POST', template: `${WORKSPACE}/Tasks/{taskSid}` },
  { route: 'workspace-fetch', product: 'taskrouter', method: 'GET', template: WORKSPACE },
  { route: 'workspace-update', product: 'taskrouter', method: 'POST', template: WORKSPACE },
  { route: 'workflow-fetch', product: 'taskrouter', method: 'GET', template: `${WORKSPACE}/Workflows/{workflowSid}` },
  { route: 'sync-create', product: 'sync', method: 'POST', template: DOCUMENTS },
  { route: 'sync-fetch', product: 'sync', method: 'GET', template: `${DOCUMENTS}/{document}` },
  { route: 'sync-update', product: 'sync', method: 'POST', template: `${DOCUMENTS}/{document}` },
  { route: 'sync-delete', product: 'sync', method: 'DELETE', template: `${DOCUMENTS}/{document}` },
];

/** A template's placeholders become named groups matching one path segment. */
const patternOf = (template: string): RegExp => new RegExp(`^${template.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)')}$`);

const ROUTES = ROUTE_SPECS.map((spec) => ({ ...spec, path: patternOf(spec.template) }));

export type RouteMatch =
  | { route: Route; params: Record<string, string> }
  /** `status` is 405 when the path is known but not with that method, else 404. */
  | { route: 'unknown'; status: 404 | 405 };

/** The product a host belongs to: its first label, for twilio.com hosts (regional ones such as iam.dublin.ie1.twilio.com too). */
function productOf(host: string): string | undefined {
  const bare = host.toLowerCase().replace(/:\d+$/, '');
  return bare.endsWith('.twilio.com') ? bare.split('.')[0] : undefined;
}

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export function matchRoute(host: string, method: string, pathname: string): RouteMatch {
  const product = productOf(host);
  let pathKnown = false;
  for (const spec of ROUTES) {
    if (spec.product !== product) continue;
    const match = spec.path.exec(pathname);
    if (!match) continue;
    if (spec.method !== method.toUpperCase()) {
      pathKnown = true;
      continue;
    }
    const params = Object.fromEntries(Object.entries(match.groups ?? {}).map(([name, value]) => [name, decoded(value)]));
    return { route: spec.route, params };
  }
  return { route: 'unknown', status: pathKnown ? 405 : 404 };
}

/** What an operation's handler reads from a routed request. */
export interface RoutedRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  headers: Record<string, string>;
  form: Record<string, string>;
  json: unknown;
}
