// Builds what twilio-run serves and deploys: each function bundled with the
// shared code into one self-contained file (deployed files get generated
// names, so a relative require between them would break), plus src/assets.
import { build } from 'esbuild';
import { cp, mkdir, mkdtemp, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
// Built beside dist/ and swapped in at the end, so a running `npm start` never sees a half-built folder.
const staging = await mkdtemp(join(root, '.dist-'));
const packageJson = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));

const functionsDir = join(root, 'src', 'functions');
const entryPoints = (await readdir(functionsDir)).filter((name) => name.endsWith('.ts')).map((name) => join(functionsDir, name));

await build({
  entryPoints,
  outdir: join(staging, 'functions'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // Packages stay packages: only `dependencies` exist in production, and they are installed there.
  external: Object.keys(packageJson.dependencies ?? {}),
  sourcemap: false,
  logLevel: 'warning',
});

await mkdir(join(staging, 'assets'), { recursive: true });
await cp(join(root, 'src', 'assets'), join(staging, 'assets'), {
  recursive: true,
  filter: (source) => !source.split('/').pop().startsWith('.'),
});
const previous = `${staging}-previous`;
await rename(dist, previous).catch((error) => {
  if (error.code !== 'ENOENT') throw error;
});
await rename(staging, dist);
await rm(previous, { recursive: true, force: true });
console.log(`built ${entryPoints.length} functions into dist/functions`);
