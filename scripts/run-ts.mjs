// Runs a TypeScript entry with node: bundles it with esbuild into a temporary
// CommonJS file and runs that in a child `node`, passing the remaining
// arguments on and exiting with its exit code.
//
//   node scripts/run-ts.mjs [node flags...] bench/bench.ts [args...]
//   e.g. node scripts/run-ts.mjs --cpu-prof --cpu-prof-dir=/tmp/prof bench/bench.ts --iterations=500
//
// Packages (dependencies and devDependencies) stay external and are resolved
// from this project's node_modules (NODE_PATH), so the bundle holds only the
// entry and the project files it imports. The bundle lives in a temporary
// folder, so code in it must not rely on __dirname: pass absolute paths.
// Arguments before the entry are node flags for the child (--cpu-prof is not
// allowed in NODE_OPTIONS).
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);
const entryIndex = argv.findIndex((argument) => !argument.startsWith('-'));
if (entryIndex < 0) {
  console.error('usage: node scripts/run-ts.mjs [node flags...] <entry.ts> [args...]');
  process.exit(2);
}
const nodeFlags = argv.slice(0, entryIndex);
const entryArgument = argv[entryIndex];
const passOn = argv.slice(entryIndex + 1);
const entry = resolve(entryArgument);

const packageJson = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
const packages = [...Object.keys(packageJson.dependencies ?? {}), ...Object.keys(packageJson.devDependencies ?? {})];

const outDir = await mkdtemp(join(tmpdir(), 'run-ts-'));
const outFile = join(outDir, basename(entry).replace(/\.[cm]?tsx?$/, '') + '.cjs');
let exitCode = 1;
try {
  await build({
    entryPoints: [entry],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: packages,
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  const nodePath = [join(root, 'node_modules'), process.env.NODE_PATH].filter(Boolean).join(delimiter);
  exitCode = await new Promise((resolveExit) => {
    const child = spawn(process.execPath, ['--enable-source-maps', ...nodeFlags, outFile, ...passOn], {
      cwd: process.cwd(),
      env: { ...process.env, NODE_PATH: nodePath, RUN_TS_PROJECT_ROOT: root, RUN_TS_ENTRY: entry },
      stdio: 'inherit',
    });
    const forward = (signal) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (code, signal) => resolveExit(code ?? (signal ? 1 : 0)));
  });
} finally {
  await rm(outDir, { recursive: true, force: true });
}
process.exit(exitCode);
