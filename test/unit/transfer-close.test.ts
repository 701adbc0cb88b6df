import { sealTransferClose, verifiedTransferClose } from '../../src/core/transfer-close';
import { AUTH_TOKEN, sid } from '../support/fixtures';

const close = { interactionSid: sid('KD', 1), channelSid: sid('UO', 2), participantSid: sid('UT', 3), status: 'closed' } as const;

describe('the sealed close instruction a cold transfer leaves for /transfer-events', () => {
  test('a seal made with the account’s AUTH_TOKEN verifies, and gives back exactly what was sealed', () => {
    expect(verifiedTransferClose(sealTransferClose(close, AUTH_TOKEN), AUTH_TOKEN)).toEqual(close);
  });

  test.each([
    ['another participant', { participantSid: sid('UT', 4) }],
    ['another channel', { channelSid: sid('UO', 9) }],
    ['another interaction', { interactionSid: sid('KD', 9) }],
    ['another status', { status: 'wrapup' }],
  ])('changing %s breaks the seal', (_label, change) => {
    expect(verifiedTransferClose({ ...sealTransferClose(close, AUTH_TOKEN), ...change }, AUTH_TOKEN)).toBeUndefined();
  });

  test('a seal made with another auth token (another account, or a rotated token) is not acted on', () => {
    expect(verifiedTransferClose(sealTransferClose(close, 'Z'.repeat(32)), AUTH_TOKEN)).toBeUndefined();
  });

  test.each([
    ['no instruction', undefined],
    ['a string', 'closed'],
    ['an array', [close]],
    ['no seal', close],
    ['a seal that is not hex of the right length', { ...close, seal: 'abc' }],
    ['a malformed participant SID', { ...sealTransferClose(close, AUTH_TOKEN), participantSid: 'UT123' }],
    ['a status no participant can take', { ...close, status: 'active', seal: sealTransferClose(close, AUTH_TOKEN).seal }],
  ])('%s: nothing to act on', (_label, value) => {
    expect(verifiedTransferClose(value, AUTH_TOKEN)).toBeUndefined();
  });
});
