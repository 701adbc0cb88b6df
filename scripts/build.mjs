// Builds what twilio-run serves and deploys: each function bundled with the
// shared code into one self-contained file (deployed files get generated
// names, so a relative require between them would break), plus src/assets.
import { build } from 'esbuild';
import { cp, mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');
const packageJson = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));

await rm(dist, { recursive: true, force: true });

const functionsDir = join(root, 'src', 'functions');
const entryPoints = (await readdir(functionsDir)).filter((name) => name.endsWith('.ts')).map((name) => join(functionsDir, name));

await build({
  entryPoints,
  outdir: join(dist, 'functions'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // Packages stay packages: only `dependencies` exist in production, and they are installed there.
  external: Object.keys(packageJson.dependencies ?? {}),
  sourcemap: false,
  logLevel: 'warning',
});

await mkdir(join(dist, 'assets'), { recursive: true });
await cp(join(root, 'src', 'assets'), join(dist, 'assets'), {
  recursive: true,
  filter: (source) => !source.split('/').pop().startsWith('.'),
});
console.log(`built ${entryPoints.length} functions into dist/functions`);
