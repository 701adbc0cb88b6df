import { validationFailure } from '../../src/lib/auth/flex-token';
import { asTransferFailure } from '../../src/lib/errors';
import { failureToHttp } from '../../src/lib/http-errors';

/** What the caller sees when a token validation failed with this answer (or none). */
function answerFor(status: number | undefined, body = ''): { status: number; code: string } {
  const answer = failureToHttp(asTransferFailure(validationFailure({ status, body })));
  return { status: answer.status, code: answer.body.error.code };
}

describe('a failed Flex token validation, as the caller sees it', () => {
  test.each([
    ['no answer at all', undefined, '', 503, 'upstream_unavailable'],
    ['a 500 page', 500, '<html>oops</html>', 503, 'upstream_unavailable'],
    ['a 429', 429, '{"code":20429,"message":"Too Many Requests"}', 503, 'upstream_unavailable'],
    ['200 with a verdict', 200, '{"valid":false,"message":"Expired token"}', 401, 'unauthenticated'],
    ['403 with a verdict', 403, '{"valid":false,"message":"not valid"}', 401, 'unauthenticated'],
    ["401 refusing the function's own credentials", 401, '{"code":20003,"message":"Authenticate","status":401}', 502, 'upstream_error'],
    ["403 refusing the function's own credentials", 403, '{"code":20403,"message":"Forbidden","status":403}', 502, 'upstream_error'],
    ['200 that is not JSON', 200, 'not-json-string', 503, 'upstream_unavailable'],
  ])('%s', (_label, status, body, expectedStatus, expectedCode) => {
    expect(answerFor(status, body)).toEqual({ status: expectedStatus, code: expectedCode });
  });
});
