/**
 * Lazily imported CommonJS packages in an esbuild bundle with code splitting.
 *
 * `const { parseAllDocuments } = await import('yaml')` works from the sources: Node gives a CommonJS
 * module's namespace the names its exports look like they have (cjs-module-lexer), plus `default`. esbuild
 * turns the same dynamic import into a chunk whose only export is `default` (evanw/esbuild#3245), so in
 * the bundle the name is `undefined` and the call throws `parseAllDocuments is not a function`. gaxios
 * loads https-proxy-agent the same way when HTTPS_PROXY is set.
 *
 * - `lazyCommonJsNamedExports` (the fix): a dynamic import that esbuild resolves to a CommonJS file in the
 *   bundle is served by a small ES module that requires it and exports, by name, what Node's namespace
 *   has: `default` (module.exports) and every name Node detects. That module becomes the chunk.
 * - `checkLazyChunks` (the guard): after bundling, imports every lazily loaded chunk and the source module
 *   it stands for in a clean Node process and reports each export name of the source that the chunk lacks.
 *   scripts/build.ts fails on any.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Metafile, Plugin } from 'esbuild';

const NAMESPACE = 'lazy-commonjs';
const SKIP = 'lazyCommonJsResolving';

/** Node's rule: .cjs is CommonJS, .mjs is ESM, .js follows the nearest package.json's "type". */
export function isCommonJsFile(file: string): boolean {
  const ext = extname(file);
  if (ext === '.cjs') return true;
  if (ext !== '.js') return false;
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        return (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: string }).type !== 'module';
      } catch {
        return true;
      }
    }
    if (dirname(dir) === dir) return true;
  }
}

/**
 * Imports each file in a fresh Node process and returns the export names of its namespace, or the error
 * the import threw. A child process, so the builder runs none of the bundled code and caches nothing.
 */
export async function nodeExportNames(files: string[]): Promise<Map<string, { names: string[] } | { error: string }>> {
  const script = `
    const results = {};
    for (const file of process.argv.slice(1)) {
      try { results[file] = { names: Object.keys(await import(file)).sort() }; }
      catch (error) { results[file] = { error: String(error && error.stack || error) }; }
    }
    process.stdout.write(JSON.stringify(results));
    process.exit(0);`;
  const urls = files.map((file) => pathToFileURL(file).href);
  const child = spawn(process.execPath, ['--input-type=module', '--no-warnings', '-e', script, ...urls], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, METADATA_SERVER_DETECTION: 'none' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`reading export names failed (exit ${code}): ${stderr}`);
  const parsed = JSON.parse(stdout) as Record<string, { names: string[] } | { error: string }>;
  return new Map(files.map((file, i) => [file, parsed[urls[i]!]!]));
}

/** The fix: lazily imported CommonJS modules keep the named exports Node gives them. */
export function lazyCommonJsNamedExports(): Plugin {
  return {
    name: 'lazy-commonjs-named-exports',
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind !== 'dynamic-import' || args.pluginData?.[SKIP]) return undefined;
        const resolved = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { [SKIP]: true } });
        if (resolved.errors.length > 0 || resolved.external || resolved.namespace !== 'file' || !isAbsolute(resolved.path) || !isCommonJsFile(resolved.path)) return undefined;
        const found = (await nodeExportNames([resolved.path])).get(resolved.path)!;
        // Node cannot load it on its own (a bundler-only file): leave it to esbuild; checkLazyChunks still checks.
        if ('error' in found) return undefined;
        // Named relative to the working directory, so the metafile reads `lazy-commonjs:node_modules/yaml/...`.
        const workingDir = build.initialOptions.absWorkingDir ?? process.cwd();
        return { path: relative(workingDir, resolved.path), namespace: NAMESPACE, pluginData: { names: found.names, file: resolved.path }, sideEffects: true };
      });
      build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => {
        const { names, file } = args.pluginData as { names: string[]; file: string };
        // require(): esbuild then gives module.exports itself, as Node's `default` is, whatever __esModule says.
        const lines = [`const exported = require(${JSON.stringify(file)});`, 'export default exported;'];
        names.filter((name) => name !== 'default').forEach((name, i) => lines.push(`const name${i} = exported[${JSON.stringify(name)}];`, `export { name${i} as ${JSON.stringify(name)} };`));
        return { contents: lines.join('\n'), loader: 'js', resolveDir: dirname(file) };
      });
    },
  };
}

export interface LazyChunkProblem {
  /** The output file, relative to the working directory of the build. */
  chunk: string;
  /** The module it stands for (what the code imports). */
  source: string;
  missing: string[];
  error?: string;
}

/** Outputs loaded by a dynamic import, with the source module each stands for. */
export function lazyChunks(metafile: Metafile): Array<{ chunk: string; source: string }> {
  const targets = new Set(Object.values(metafile.outputs).flatMap((output) => output.imports.filter((imported) => imported.kind === 'dynamic-import' && !imported.external).map((imported) => imported.path)));
  return [...targets].sort().map((chunk) => {
    const entryPoint = metafile.outputs[chunk]?.entryPoint;
    if (!entryPoint) throw new Error(`the lazily imported output ${chunk} names no entry point in the metafile`);
    return { chunk, source: entryPoint.startsWith(`${NAMESPACE}:`) ? entryPoint.slice(NAMESPACE.length + 1) : entryPoint };
  });
}

/** The guard: every lazily imported chunk exports what Node's namespace of its source module has. */
export async function checkLazyChunks(metafile: Metafile, workingDir: string): Promise<LazyChunkProblem[]> {
  const chunks = lazyChunks(metafile).map(({ chunk, source }) => ({ chunk, source, chunkFile: join(workingDir, chunk), sourceFile: isAbsolute(source) ? source : join(workingDir, source) }));
  if (chunks.length === 0) return [];
  const names = await nodeExportNames(chunks.flatMap(({ chunkFile, sourceFile }) => [chunkFile, sourceFile]));
  const problems: LazyChunkProblem[] = [];
  for (const { chunk, source, chunkFile, sourceFile } of chunks) {
    const inChunk = names.get(chunkFile)!;
    const inSource = names.get(sourceFile)!;
    if ('error' in inChunk) problems.push({ chunk, source, missing: [], error: `the chunk does not load: ${inChunk.error}` });
    else if ('error' in inSource) problems.push({ chunk, source, missing: [], error: `the source module does not load in Node: ${inSource.error}` });
    else {
      const missing = inSource.names.filter((name) => !inChunk.names.includes(name));
      if (missing.length > 0) problems.push({ chunk, source, missing });
    }
  }
  return problems;
}

export function describeLazyChunkProblems(problems: LazyChunkProblem[]): string {
  return problems
    .map((problem) => (problem.error ? `${problem.chunk} (lazy import of ${problem.source}): ${problem.error}` : `${problem.chunk} (lazy import of ${problem.source}) lacks the export(s) ${problem.missing.join(', ')} that Node gives the source module; \`const { ${problem.missing[0]} } = await import(...)\` would be undefined in the bundle`))
    .join('\n');
}
