import { randomUUID } from 'node:crypto';
import type { Dependencies } from '../core/context';
import { FlexTokenVerifier } from '../core/flex-token';
import { InstanceMemory } from '../core/instance-memory';
import { helperLibrarySender } from '../twilio/sender';

/**
 * The one place the core's dependencies are built: Twilio through the helper
 * library, the clock, stdout. Tests and the benchmark pass their stand-in
 * sender, clock or log in `replacing`; everything else stays real.
 */
export function buildDependencies(env: Dependencies['env'], replacing: Partial<Omit<Dependencies, 'env'>> = {}): Dependencies {
  return {
    env,
    newSender: helperLibrarySender,
    verifier: new FlexTokenVerifier(),
    memory: new InstanceMemory(),
    now: Date.now,
    random: Math.random,
    newRequestId: randomUUID,
    log: (entry) => console.log(JSON.stringify(entry)),
    ...replacing,
  };
}
