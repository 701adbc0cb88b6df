/** Which Twilio operation a request is: product host, method and path pattern. */
import type { Route } from './types';

type Product = 'iam' | 'flex-api' | 'taskrouter' | 'sync';

interface RouteSpec {
  route: Route;
  product: Product;
  method: string;
  path: RegExp;
}

const CHANNEL = String.raw`/v1/Interactions/(?<interactionSid>[^/]+)/Channels/(?<channelSid>[^/]+)`;
const TASK = String.raw`^/v1/Workspaces/(?<workspaceSid>[^/]+)/Tasks/(?<taskSid>[^/]+)$`;
const DOCUMENTS = String.raw`/v1/Services/(?<serviceSid>[^/]+)/Documents`;
const DOCUMENT = String.raw`^${DOCUMENTS}/(?<document>[^/]+)$`;

const ROUTES: readonly RouteSpec[] = [
  { route: 'token-validate', product: 'iam', method: 'POST', path: /^\/v1\/Accounts\/AC\w+\/Tokens\/validate$/ },
  { route: 'invite-create', product: 'flex-api', method: 'POST', path: new RegExp(`^${CHANNEL}/Invites$`) },
  { route: 'invite-list', product: 'flex-api', method: 'GET', path: new RegExp(`^${CHANNEL}/Invites$`) },
  { route: 'participant-list', product: 'flex-api', method: 'GET', path: new RegExp(`^${CHANNEL}/Participants$`) },
  {
    route: 'participant-update',
    product: 'flex-api',
    method: 'POST',
    path: new RegExp(`^${CHANNEL}/Participants/(?<participantSid>[^/]+)$`),
  },
  { route: 'task-fetch', product: 'taskrouter', method: 'GET', path: new RegExp(TASK) },
  { route: 'task-update', product: 'taskrouter', method: 'POST', path: new RegExp(TASK) },
  { route: 'sync-create', product: 'sync', method: 'POST', path: new RegExp(`^${DOCUMENTS}$`) },
  { route: 'sync-fetch', product: 'sync', method: 'GET', path: new RegExp(DOCUMENT) },
  { route: 'sync-update', product: 'sync', method: 'POST', path: new RegExp(DOCUMENT) },
  { route: 'sync-delete', product: 'sync', method: 'DELETE', path: new RegExp(DOCUMENT) },
];

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
