/**
 * `npm run build`: bundles functions/src into build/functions with esbuild and writes the package.json
 * Cloud Functions installs from. Terraform zips that folder.
 *
 * Why a bundle: a cold instance otherwise resolves and compiles about 1,500 files of the client
 * libraries one by one; one ES module (plus lazily loaded chunks) starts faster — `npm run bench`
 * shows the difference (cold start section). What stays external, installed by Cloud Build from the
 * deployed package.json:
 * - the functions framework: it is the host process that loads the function;
 * - the Cloud Tasks, Secret Manager and Pub/Sub clients: they load lazily (first retry, first secret
 *   read, first operational event), so
 *   bundling them gains nothing at cold start, and they do not survive it (they require their client
 *   config by a computed path, and their CommonJS exports lose their names in a bundled dynamic import);
 * - our own import of @grpc/grpc-js (insecure credentials for the Cloud Tasks emulator): it must be the
 *   copy the external Cloud Tasks client uses. The Firestore client inside the bundle keeps its own.
 * The Firestore client's generated protobuf classes are evaluated on first use, not at load
 * (scripts/lazy-generated-protos.ts). The output is pure ASCII, so V8 keeps its source at one byte per
 * character (scripts/ascii-output.ts).
 * Lazily imported CommonJS packages (yaml, https-proxy-agent) keep their named exports through
 * scripts/lazy-commonjs.ts, and the build fails when a lazily loaded chunk lacks an export name its
 * source module has in Node (evanw/esbuild#3245: `const { x } = await import('cjs')` is undefined).
 * The integration tests run this build, not the sources.
 */
import { build as esbuild, type Metafile, type Plugin } from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asciiOutputFiles } from './ascii-output.ts';
import { checkLazyChunks, describeLazyChunkProblems, lazyCommonJsNamedExports } from './lazy-commonjs.ts';
import { lazyGeneratedProtos } from './lazy-generated-protos.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BUILD_DIR = join(ROOT, 'build', 'functions');
export const FUNCTIONS_ENTRY = join(ROOT, 'functions', 'src', 'index.ts');
/** esbuild's record of which source files went into which output file (read by the bench); not deployed. */
export const BUILD_METAFILE = join(ROOT, 'build', 'functions-metafile.json');
/** The production code the integration tests use themselves, bundled like the deployable (not deployed). */
export const TEST_KIT_DIR = join(ROOT, 'build', 'test-kit');
export const TEST_KIT_BUNDLE = join(TEST_KIT_DIR, 'entry.js');
const TEST_KIT_ENTRY = join(ROOT, 'test', 'kit', 'entry.ts');

const FRAMEWORK = '@google-cloud/functions-framework';
const GRPC = '@grpc/grpc-js';
const OWN_SOURCES = join(ROOT, 'functions', 'src');
/** Packages loaded from node_modules at run time, so the deployed package.json lists them. */
export const EXTERNAL_PACKAGES = [FRAMEWORK, '@google-cloud/tasks', '@google-cloud/secret-manager', '@google-cloud/pubsub', GRPC];

/** Leaves @grpc/grpc-js external where our own code imports it, and bundled everywhere else. */
const ownGrpcExternal: Plugin = {
  name: 'own-grpc-external',
  setup(build) {
    build.onResolve({ filter: /^@grpc\/grpc-js$/ }, (args) => (args.importer.startsWith(OWN_SOURCES) ? { path: GRPC, external: true } : undefined));
  },
};

// CommonJS dependencies inside an ES module bundle still call require() and read __dirname.
const COMMONJS_SHIM = [
  "import { createRequire as __hookshapeRequire } from 'node:module';",
  "import { fileURLToPath as __hookshapePath } from 'node:url';",
  "import { dirname as __hookshapeDir } from 'node:path';",
  'const require = __hookshapeRequire(import.meta.url);',
  'const __filename = __hookshapePath(import.meta.url);',
  'const __dirname = __hookshapeDir(__filename);',
].join(' ');

export interface BundleOptions {
  entryPoints: Record<string, string>;
  outdir: string;
  /** The directory metafile paths are relative to. */
  workingDir: string;
  external?: string[];
  plugins?: Plugin[];
  /** Serve lazily imported CommonJS modules with their named exports (the fix of evanw/esbuild#3245). */
  lazyCommonJsNamedExports?: boolean;
}

/** The esbuild settings of the deployable, for any entry (the tests bundle fixtures with them). */
export async function bundle(options: BundleOptions): Promise<Metafile> {
  rmSync(options.outdir, { recursive: true, force: true });
  const result = await esbuild({
    entryPoints: options.entryPoints,
    outdir: options.outdir,
    absWorkingDir: options.workingDir,
    bundle: true,
    // Code splitting keeps the dynamic imports lazy: the Cloud Tasks client (first retry), Secret
    // Manager, and the XML and YAML parsers load only when used.
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    external: options.external ?? [],
    plugins: [...(options.lazyCommonJsNamedExports === false ? [] : [lazyCommonJsNamedExports()]), lazyGeneratedProtos(), ...(options.plugins ?? [])],
    banner: { js: COMMONJS_SHIM },
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'linked',
    logLevel: 'error',
    metafile: true,
  });
  if (result.errors.length > 0) throw new Error(`bundling failed: ${result.errors.map((error) => error.text).join('; ')}`);
  await asciiOutputFiles(Object.keys(result.metafile.outputs).map((name) => join(options.workingDir, name)));
  return result.metafile;
}

export class LazyChunkError extends Error {
  override name = 'LazyChunkError';
}

/** Fails when a lazily loaded chunk lacks an export name its source module has in Node. */
export async function assertLazyChunksKeepTheirExports(metafile: Metafile, workingDir: string): Promise<void> {
  const problems = await checkLazyChunks(metafile, workingDir);
  if (problems.length > 0) throw new LazyChunkError(`the bundle lost exports of lazily imported modules:\n${describeLazyChunkProblems(problems)}`);
}

/**
 * The deployable's bundle options for some entry points: the same externals and plugins as
 * `npm run build` (the bench bundles the modules it measures with them, into bench/.out).
 */
export function deployableBundleOptions(entryPoints: Record<string, string>, outdir: string): BundleOptions {
  return { entryPoints, outdir, workingDir: ROOT, external: EXTERNAL_PACKAGES.filter((name) => name !== GRPC), plugins: [ownGrpcExternal] };
}

export async function build(): Promise<void> {
  const outdir = BUILD_DIR;
  const metafile = await bundle(deployableBundleOptions({ index: FUNCTIONS_ENTRY }, outdir));
  writeFileSync(BUILD_METAFILE, JSON.stringify(metafile));
  await assertLazyChunksKeepTheirExports(metafile, ROOT);
  const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const deployed = {
    name: `${root.name}-functions`,
    version: root.version,
    private: true,
    type: 'module',
    main: 'index.js',
    engines: { node: '22' },
    dependencies: Object.fromEntries(EXTERNAL_PACKAGES.map((name) => [name, root.dependencies[name]])),
  };
  writeFileSync(join(outdir, 'package.json'), `${JSON.stringify(deployed, null, 2)}\n`);
  await buildPortal(join(outdir, 'portal'));
}

/**
 * Bundles test/kit/entry.ts as the functions are bundled (a second or two): the tests take the helpers
 * they share with the functions (paths, config, the API key store, the adapters) from this bundle, so
 * that they test the code as built; like build(), it fails when a lazy chunk lost exports.
 */
export async function buildTestKit(): Promise<void> {
  const options = deployableBundleOptions({ entry: TEST_KIT_ENTRY }, TEST_KIT_DIR);
  const metafile = await bundle(options);
  await assertLazyChunksKeepTheirExports(metafile, options.workingDir);
}

export const PORTAL_SOURCE = join(ROOT, 'portal');

/**
 * The customer portal (portal/): vite builds it into build/functions/portal, where the api function
 * serves it at /portal/. Hashed names under assets/ (cached for good); no inline script or style (the
 * CSP forbids them): the module preload polyfill is off and CSS goes to a file.
 */
export async function buildPortal(outDir: string): Promise<void> {
  const { build: viteBuild } = await import('vite');
  // vite sets process.env.NODE_ENV = 'production' in the calling process; the local stack builds
  // in-process and its functions (children) must not inherit it (the framework then hides its banner).
  const nodeEnv = process.env.NODE_ENV;
  try {
    await viteBuild({
      root: PORTAL_SOURCE,
      base: '/portal/',
      logLevel: 'warn',
      configFile: false,
      build: { outDir, emptyOutDir: true, assetsDir: 'assets', assetsInlineLimit: 0, cssCodeSplit: false, modulePreload: { polyfill: false }, sourcemap: false, target: 'es2022', reportCompressedSize: false },
    });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await build();
  // A test file run alone (node --test) after npm run build needs the kit as well.
  await buildTestKit();
  console.log(`built ${BUILD_DIR} and ${TEST_KIT_DIR}`);
}
