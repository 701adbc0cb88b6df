import { newSid } from '../../dev/twilio-standin';
import { grantAgentToken, inProcessFunctions } from '../support/in-process';
import { TEST_WORKSPACE_SID } from '../support/functions-server';

const functions = inProcessFunctions();

test('smoke: a supervisor warm queue transfer with the original task', async () => {
  const { token } = grantAgentToken(functions.standin, ['supervisor']);
  const taskSid = functions.standin.addTask({ workspaceSid: TEST_WORKSPACE_SID, attributes: { name: 'Ann' }, taskChannelUniqueName: 'sms' });
  const result = await functions.call('transfer-to-queue', {
    form: { Token: token, interactionSid: newSid('KD'), channelSid: newSid('UO'), queueSid: newSid('WQ'), taskSid, idempotencyKey: 'k1' },
  });
  console.log(JSON.stringify(result, null, 1), JSON.stringify(functions.standin.requests.map((r) => [r.route, r.method, r.path])));
  expect(result.status).toBe(201);
});
