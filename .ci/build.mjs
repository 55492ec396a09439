// Bundles each target with esbuild. Type checking is separate (npm run typecheck).
import { build } from 'esbuild';
import { readdirSync, existsSync, chmodSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const common = { bundle: true, sourcemap: true, logLevel: 'warning', target: 'node20' };
// Native modules and packages that load files relative to themselves stay in node_modules.
const backendExternals = ['better-sqlite3', 'onnxruntime-node', 'dockerode', 'ssh2', 'cpu-features'];

const jobs = [
  build({
    ...common,
    platform: 'node',
    format: 'esm',
    // The monitors' checks worker thread loads its own file beside cli.mjs (services/monitors/checkworker.ts).
    entryPoints: { cli: 'backend/src/cli.ts', 'monitor-worker': 'backend/src/services/monitors/worker.ts' },
    outdir: 'dist/backend',
    outExtension: { '.js': '.mjs' },
    external: backendExternals,
    // Bundled CommonJS dependencies call require(); give the ESM bundle one.
    banner: { js: "#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  }),
];
if (existsSync('extension/src/extension.ts')) {
  jobs.push(build({ ...common, platform: 'node', format: 'cjs', entryPoints: ['extension/src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] }));
}
const views = existsSync('webviews/src') ? readdirSync('webviews/src').filter((d) => existsSync(`webviews/src/${d}/main.ts`)) : [];
for (const v of views) {
  jobs.push(build({ ...common, platform: 'browser', format: 'iife', target: 'es2022', entryPoints: [`webviews/src/${v}/main.ts`], outfile: `dist/webviews/${v}.js` }));
}
await Promise.all(jobs);
chmodSync('dist/backend/cli.mjs', 0o755);
if (watch) console.log('watch mode is not supported; rerun npm run build');
