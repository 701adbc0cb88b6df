// `npm start` reads settings from .env; on first start, create it from .env.example.
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const envFile = join(root, '.env');
if (!existsSync(envFile)) {
  copyFileSync(join(root, '.env.example'), envFile);
  console.log('Created .env from .env.example: fill in ACCOUNT_SID, AUTH_TOKEN and TWILIO_FLEX_WORKSPACE_SID.');
}
