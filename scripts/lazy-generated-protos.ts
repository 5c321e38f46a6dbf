/**
 * Generated protobuf classes, moved out of the bundle's start-up path: loaded from their own files on
 * first use instead of parsed and evaluated when a cold instance starts.
 *
 * Importing `@google-cloud/firestore` evaluates four generated modules: `@google-cloud/firestore-api`'s
 * `protos/protos.js` (2 MB of classes, one per Firestore and Firestore Admin message) and google-gax's
 * `protos/iam_service.js`, `locations.js` and `operations.js` (1 MB). The modules that require them at
 * load only keep a reference: the API package re-exports them as `protos`, the client's
 * `firestore_v1_proto_api.js` hangs them on its root, its serializer takes `Value` for pipeline
 * options, google-gax's index and REST transport re-export its three, and its long-running operations
 * use `operations`.
 * Reads, writes, queries and transactions never touch them: the gRPC client encodes with protobufjs from
 * `protos.json`. In the bundle they cost a cold start about 30 ms (parsing the 3 MB, then building the
 * classes): `npm run bench`, coldStartMs.
 *
 * What the plugin does, for every bundle made with the deployable's options:
 * - each generated file is written beside the bundle as `generated-protos/<name>.cjs`, wrapped in a
 *   function that takes the bundle's own `require` for protobufjs (so the classes register in the same
 *   protobufjs the client uses); the bundle holds a small stand-in that loads it;
 * - the lines that require them at load are rewritten (`REWRITES`) into getters that require them on
 *   first read. Each rewrite is an exact text replacement: if a client version changes the text, the
 *   build fails naming the file, rather than silently losing the gain or shipping half a rewrite.
 * test/integration/generated-protos.test.ts bundles the client with the plugin and checks that none of the
 * four is loaded by importing it and using Firestore, and that each works when read.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Plugin } from 'esbuild';

/** The folder, beside the bundle's chunks, that holds the generated modules. */
export const GENERATED_DIR = 'generated-protos';

/** The generated files moved out (paths under node_modules), and the file each becomes. */
export const GENERATED_PROTOS = [
  { source: '@google-cloud/firestore-api/build/protos/protos.js', out: 'firestore-api-protos.cjs', requires: ['google-gax/build/src/protobuf'] },
  { source: 'google-gax/build/protos/iam_service.js', out: 'gax-iam-service.cjs', requires: ['protobufjs/minimal'] },
  { source: 'google-gax/build/protos/locations.js', out: 'gax-locations.cjs', requires: ['protobufjs/minimal'] },
  { source: 'google-gax/build/protos/operations.js', out: 'gax-operations.cjs', requires: ['protobufjs/minimal'] },
] as const;

interface Rewrite {
  /** The file, as its path under node_modules. */
  file: string;
  from: string;
  to: string;
  /** Uses of a replaced name that its replacement does not provide: none may be left in the file. */
  forbid?: RegExp;
}

const lazyExport = (name: string, path: string) =>
  `let ${name}_;\nObject.defineProperty(exports, "${name}", { enumerable: true, configurable: true, get: () => (${name}_ ??= __importStar(require("${path}"))) });`;

export const REWRITES: Rewrite[] = [
  {
    file: '@google-cloud/firestore-api/build/src/index.js',
    from: 'const protos = require("../protos/protos");\nexports.protos = protos;',
    to: 'Object.defineProperty(exports, "protos", { enumerable: true, get: () => require("../protos/protos") });',
  },
  {
    // The index copies its exports onto the Firestore class with Object.assign, which would read the
    // getter: it copies all but `protos`, then defines `protos` on the class as a getter.
    file: '@google-cloud/firestore/build/src/index.js',
    from: 'module.exports = Object.assign(module.exports, existingExports);',
    to: 'for (const name of Object.keys(existingExports)) if (name !== "protos") module.exports[name] = existingExports[name];\nObject.defineProperty(module.exports, "protos", { enumerable: true, configurable: true, get: () => firestore_api_1.protos });',
  },
  {
    file: '@google-cloud/firestore/build/protos/firestore_v1_proto_api.js',
    from: 'u.google=require("@google-cloud/firestore-api/build/protos/protos").google,u',
    to: 'Object.defineProperty(u,"google",{configurable:!0,enumerable:!0,get:function(){return require("@google-cloud/firestore-api/build/protos/protos").google}}),u',
  },
  {
    file: '@google-cloud/firestore/build/src/serializer.js',
    from: 'var Value = firestore_v1_proto_api_1.google.firestore.v1.Value;',
    to: 'var Value = { fromObject: (value) => firestore_v1_proto_api_1.google.firestore.v1.Value.fromObject(value) };',
    forbid: /(?<![\w.])Value\.(?!fromObject\()|\b(new|instanceof) Value\b/g,
  },
  // google-gax's index, and its REST transport, which its error class loads with gRPC too.
  ...['google-gax/build/src/index.js', 'google-gax/build/src/fallback.js'].map((file) => ({
    file,
    from: [
      'const IamProtos = __importStar(require("../protos/iam_service"));',
      'exports.IamProtos = IamProtos;',
      'const LocationProtos = __importStar(require("../protos/locations"));',
      'exports.LocationProtos = LocationProtos;',
      'const operationsProtos = __importStar(require("../protos/operations"));',
      'exports.operationsProtos = operationsProtos;',
    ].join('\n'),
    to: [lazyExport('IamProtos', '../protos/iam_service'), lazyExport('LocationProtos', '../protos/locations'), lazyExport('operationsProtos', '../protos/operations')].join('\n'),
    forbid: /(?<!exports\.)\b(IamProtos|LocationProtos|operationsProtos)\b/g,
  })),
  {
    file: 'google-gax/build/src/longRunningCalls/longrunning.js',
    from: 'const operationProtos = __importStar(require("../../protos/operations"));',
    to: 'let operationProtos_;\nconst operationProtos = { get google() { return (operationProtos_ ??= __importStar(require("../../protos/operations"))).google; } };',
    forbid: /\boperationProtos\b(?!\.google\.)/g,
  },
];

export class LazyProtosError extends Error {
  override name = 'LazyProtosError';
}

const where = 'scripts/lazy-generated-protos.ts';

/** Applies one rewrite to a file's text, or throws when the text is not exactly what it expects. */
export function applyRewrite(rewrite: Rewrite, text: string): string {
  const at = text.indexOf(rewrite.from);
  if (at < 0 || text.indexOf(rewrite.from, at + 1) >= 0) {
    throw new LazyProtosError(`${where}: ${rewrite.file} no longer has, exactly once, the text it rewrites (${JSON.stringify(rewrite.from.slice(0, 70))}…): the client library changed; update or remove the rewrite`);
  }
  const rewritten = text.slice(0, at) + rewrite.to + text.slice(at + rewrite.from.length);
  if (rewrite.forbid) {
    const rest = text.slice(0, at) + text.slice(at + rewrite.from.length);
    const left = [...new Set(rest.match(rewrite.forbid) ?? [])];
    if (left.length > 0) throw new LazyProtosError(`${where}: ${rewrite.file} now uses ${left.join(', ')}, which its rewrite does not provide: update the rewrite`);
  }
  return rewritten;
}

/** The generated module, wrapped to run on first use with the bundle's own copies of what it requires. */
export function wrapGenerated(source: string, text: string, requires: readonly string[]): string {
  const found = [...new Set([...text.slice(0, 2000).matchAll(/require\("([^"]+)"\)/g)].map((match) => match[1]!))];
  if (found.join() !== requires.join()) {
    throw new LazyProtosError(`${where}: ${source} now requires ${found.join(', ') || 'nothing'} (expected ${requires.join(', ')}): update GENERATED_PROTOS`);
  }
  return [
    `// node_modules/${source} (Apache-2.0), outside the bundle so that a cold start does not parse it: ${where}.`,
    'module.exports = function load(require) {',
    'var module = { exports: {} }, exports = module.exports, define;',
    text,
    ';return module.exports;',
    '};',
    '',
  ].join('\n');
}

const escapeForRegExp = (path: string) => path.replace(/[.]/g, '\\.').replace(/\//g, '[\\\\/]');

type Generated = (typeof GENERATED_PROTOS)[number];

/**
 * The generated modules one build moves out: each checked and wrapped when esbuild loads it, written
 * beside the bundle when the build ends. Two bundled copies of one module would both load the one file
 * written, so the second copy fails the build.
 */
export class GeneratedFiles {
  private readonly files = new Map<string, { path: string; wrapped: string }>();

  add(generated: Generated, path: string, text: string): void {
    const known = this.files.get(generated.out);
    if (known && known.path !== path) {
      throw new LazyProtosError(`${where}: two copies of ${generated.source} are bundled (${known.path} and ${path}); both would load one generated file: deduplicate the dependency or extend GENERATED_PROTOS`);
    }
    this.files.set(generated.out, { path, wrapped: wrapGenerated(generated.source, text, generated.requires) });
  }

  writeTo(outdir: string): void {
    if (this.files.size === 0) return;
    mkdirSync(join(outdir, GENERATED_DIR), { recursive: true });
    for (const [out, { wrapped }] of this.files) writeFileSync(join(outdir, GENERATED_DIR, out), wrapped);
  }
}

export function lazyGeneratedProtos(): Plugin {
  return {
    name: 'lazy-generated-protos',
    setup(build) {
      for (const rewrite of REWRITES) {
        build.onLoad({ filter: new RegExp(`node_modules[\\\\/]${escapeForRegExp(rewrite.file)}$`) }, async (args) => ({ contents: applyRewrite(rewrite, await readFile(args.path, 'utf8')), loader: 'js' }));
      }
      const files = new GeneratedFiles();
      for (const generated of GENERATED_PROTOS) {
        build.onLoad({ filter: new RegExp(`node_modules[\\\\/]${escapeForRegExp(generated.source)}$`) }, async (args) => {
          files.add(generated, args.path, await readFile(args.path, 'utf8'));
          const cases = generated.requires.map((id) => `if (id === ${JSON.stringify(id)}) return require(${JSON.stringify(id)});`).join(' ');
          return {
            // The stand-in: evaluated only when a getter above first reads the module.
            contents: `module.exports = require("./${GENERATED_DIR}/${generated.out}")(function (id) { ${cases} throw new Error("${where}: unexpected require of " + id); });`,
            loader: 'js',
            resolveDir: dirname(args.path),
          };
        });
      }
      build.onResolve({ filter: new RegExp(`^\\./${GENERATED_DIR}/`) }, (args) => ({ path: args.path, external: true }));
      build.onEnd((result) => {
        if (result.errors.length === 0 && build.initialOptions.outdir) files.writeTo(build.initialOptions.outdir);
      });
    },
  };
}
