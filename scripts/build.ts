/**
 * `npm run build`: compiles functions/src to build/functions and writes the package.json Cloud
 * Functions installs from (the runtime dependencies, pinned as in the root package.json). Terraform
 * zips that folder.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BUILD_DIR = join(ROOT, 'build', 'functions');

export function build(): void {
  rmSync(BUILD_DIR, { recursive: true, force: true });
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (tsc.status !== 0) throw new Error('TypeScript compilation failed');
  const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const deployed = {
    name: `${root.name}-functions`,
    version: root.version,
    private: true,
    type: 'module',
    main: 'index.js',
    engines: { node: '22' },
    dependencies: root.dependencies,
  };
  writeFileSync(join(BUILD_DIR, 'package.json'), `${JSON.stringify(deployed, null, 2)}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  build();
  console.log(`built ${BUILD_DIR}`);
}
