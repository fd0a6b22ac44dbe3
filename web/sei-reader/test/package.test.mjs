// What client teams get: `npm pack` gives a tarball with the built JS, the type declarations and the README (and no
// sources or tests), the package imports by its name from a node_modules folder, and the README's TypeScript quick
// start type-checks against the packed declarations (so the README cannot drift from the API). The suite runs after
// `npm run build` (scripts/node-tests.sh), so the tarball is packed from that build (`--ignore-scripts`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(join(tmpdir(), 'sei-reader-pack-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });

const packed = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], here))[0];
const tarball = join(work, packed.filename);
const modules = join(work, 'app', 'node_modules', '@catevening', 'sei-reader');
mkdirSync(modules, { recursive: true });
run('tar', ['-xzf', tarball, '-C', modules, '--strip-components=1'], work);

test('npm pack: built JS, type declarations, README and package.json; no sources, tests or maps', () => {
  const files = packed.files.map((f) => f.path).sort();
  for (const f of ['README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/verifier.js', 'dist/verifier.d.ts', 'dist/adapters.js', 'dist/adapters.d.ts']) {
    assert.ok(files.includes(f), `${f} in ${files.join(', ')}`);
  }
  assert.deepEqual(files.filter((f) => !(f.startsWith('dist/') || f === 'README.md' || f === 'package.json')), []);
  assert.ok(!files.some((f) => f.endsWith('.map')));
  const pkg = JSON.parse(readFileSync(join(modules, 'package.json'), 'utf8'));
  assert.equal(pkg.name, '@catevening/sei-reader');
  assert.equal(pkg.dependencies, undefined, 'no runtime dependencies');
  assert.equal(pkg.exports['.'].types, './dist/index.d.ts');
});

test('the tarball imports by package name and exports the documented API', async () => {
  const entry = join(work, 'app', 'probe.mjs');
  writeFileSync(entry, "export * as api from '@catevening/sei-reader';\n");
  const { api } = await import(pathToFileURL(entry).href);
  for (const name of ['KeyRing', 'SeiReader', 'MessageVerifier', 'InteractionScheduler', 'attachToHls', 'attachToMpegts', 'attachVideoClock', 'connect',
    'peakShavingOffsetUs', 'RejectionReason']) assert.ok(api[name], name);
  assert.equal(api.RejectionReason.IssuedInFuture, 13);
});

test('the README quick start (every ts block) type-checks against the packed declarations', () => {
  const readme = readFileSync(join(modules, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.ok(blocks.length >= 2, 'a quick start for hls.js and one for mpegts.js');
  assert.match(readme, /attachToHls\(hls, reader\)/);
  assert.match(readme, /attachToMpegts\(player, reader\)/);
  const app = join(work, 'app');
  // The players are not dependencies of this package: the check declares the few members the quick start uses.
  writeFileSync(join(app, 'players.d.ts'), `
declare module 'hls.js' {
  export default class Hls { on(e: string, l: (e: string, d: any) => void): void; off(e: string, l: (e: string, d: any) => void): void;
    loadSource(url: string): void; attachMedia(v: HTMLMediaElement): void; }
}
declare module 'mpegts.js' {
  interface Player { on(e: string, l: (d: any) => void): void; off(e: string, l: (d: any) => void): void;
    attachMediaElement(v: HTMLMediaElement): void; load(): void; }
  const mpegts: { createPlayer(source: { type: string; isLive: boolean; url: string }): Player };
  export default mpegts;
}
`);
  blocks.forEach((code, i) => writeFileSync(join(app, `quick-start-${i}.ts`), code));
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'ES2022', moduleResolution: 'bundler', lib: ['ES2022', 'DOM'], strict: true, noEmit: true, types: [], skipLibCheck: false },
    include: ['*.ts'],
  }));
  try {
    run(process.execPath, [join(here, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], app);
  } catch (e) {
    assert.fail(`tsc: ${e.stdout}${e.stderr}`);
  }
});
