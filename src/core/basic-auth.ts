import { createHash, timingSafeEqual } from 'node:crypto';

export interface BasicCredentials {
  user: string;
  password: string;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Compares in constant time whatever the lengths (both sides are hashed to 32 bytes first). */
function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** The credentials in an `Authorization: Basic …` value, or undefined when it is not one. */
export function parseBasicAuthorization(authorization: string): BasicCredentials | undefined {
  const match = /^Basic[ ]+([A-Za-z0-9+/]+={0,2})[ ]*$/i.exec(authorization);
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function basicCredentialsMatch(given: BasicCredentials, expected: BasicCredentials): boolean {
  const userMatches = sameSecret(given.user, expected.user);
  const passwordMatches = sameSecret(given.password, expected.password);
  return userMatches && passwordMatches;
}
