/**
 * The production code the in-process sections measure, as built: bench/measured/entry.ts bundled with
 * the deployable's esbuild settings (scripts/build.ts: ES modules, code splitting, the same externals
 * and plugins) into bench/.out/measured. `npm run bench` makes the bundle before those sections run;
 * each section imports it with measuredCode(). Types come from the sources, values from the bundle.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { assertLazyChunksKeepTheirExports, bundle, deployableBundleOptions } from '../../scripts/build.ts';
import type * as Measured from './entry.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
export const MEASURED_DIR = join(HERE, '..', '.out', 'measured');
const MEASURED_ENTRY = join(HERE, 'entry.ts');
const MEASURED_BUNDLE = join(MEASURED_DIR, 'entry.js');

export type MeasuredCode = typeof Measured;

/** Bundles the measured code as `npm run build` bundles the functions (about a second). */
export async function buildMeasuredCode(): Promise<void> {
  const options = deployableBundleOptions({ entry: MEASURED_ENTRY }, MEASURED_DIR);
  const metafile = await bundle(options);
  await assertLazyChunksKeepTheirExports(metafile, options.workingDir);
}

/** The bundle's exports; it must have been built in this run (run.ts does, before the sections that use it). */
export async function measuredCode(): Promise<MeasuredCode> {
  if (!existsSync(MEASURED_BUNDLE)) throw new Error(`${MEASURED_BUNDLE} is missing: the sections that measure production code in-process run from npm run bench, which builds it`);
  return (await import(pathToFileURL(MEASURED_BUNDLE).href)) as MeasuredCode;
}
