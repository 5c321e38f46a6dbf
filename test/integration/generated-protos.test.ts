import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Metafile } from 'esbuild';
import { BUILD_DIR, BUILD_METAFILE, bundle, deployableBundleOptions, ROOT } from '../../scripts/build.ts';
import { applyRewrite, GENERATED_DIR, GeneratedFiles, GENERATED_PROTOS, LazyProtosError, REWRITES, wrapGenerated } from '../../scripts/lazy-generated-protos.ts';

// scripts/lazy-generated-protos.ts moves the client libraries' generated protobuf classes out of the
// bundle's start-up path. What must hold: a bundle made with the deployable's options loads none of
// them while Firestore works, each loads and works when something reads it, the deployable carries
// them, and a library change to a rewritten line fails the build instead of shipping half a rewrite.

const FIXTURE_ENTRY = `
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import { Firestore } from '@google-cloud/firestore';
import { ObjectValueFieldPath } from '@google-cloud/firestore/build/src/path';
import * as gax from 'google-gax';
import { ObjectValue } from ${JSON.stringify(join(ROOT, 'node_modules/@google-cloud/firestore/build/src/serializer.js'))};

const cache = createRequire(import.meta.url).cache;
const loaded = () => Object.keys(cache).filter((path) => path.includes(${JSON.stringify(GENERATED_DIR)})).map((path) => basename(path)).sort();

export async function probe(host) {
  const report = { atImport: loaded() };
  const db = new Firestore({ projectId: 'generated-protos-test', host, ssl: false });
  const doc = db.collection('probes').doc();
  await doc.create({ n: 1, at: new Date(), tags: ['a'] });
  await db.runTransaction(async (tx) => tx.update(doc, { n: (await tx.get(doc)).get('n') + 1 }));
  const found = await db.collection('probes').where('tags', 'array-contains', 'a').limit(5).get();
  await db.batch().update(doc, { n: 3 }).commit();
  report.read = { n: (await doc.get()).get('n'), found: found.size > 0 };
  await db.terminate();
  report.afterFirestore = loaded();

  const value = Firestore.protos.google.firestore.v1.Value.fromObject({ stringValue: 'x' }).toJSON();
  const objectValue = ObjectValue.empty();
  objectValue.set(new ObjectValueFieldPath('field'), { integerValue: '7' }); // the serializer's Value, for pipeline options
  const operation = gax.operationsProtos.google.longrunning.GetOperationRequest.create({ name: 'operations/1' });
  report.used = {
    value,
    objectValue: objectValue.value,
    operation: operation.name,
    iam: typeof gax.IamProtos.google.iam.v1.Policy,
    location: typeof gax.LocationProtos.google.cloud.location.Location,
    sameProtos: Firestore.protos === Firestore.protos && gax.IamProtos === gax.IamProtos,
  };
  report.afterUse = loaded();
  return report;
}
`;

describe('generated protobuf classes, outside the bundle start-up path (scripts/lazy-generated-protos.ts)', () => {
  let dir: string;
  before(() => {
    // Under the project, so that the fixture resolves the packages from its node_modules.
    mkdirSync(join(ROOT, 'build'), { recursive: true });
    dir = mkdtempSync(join(ROOT, 'build', 'generated-protos-test-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loads none of them while Firestore reads, writes, queries and commits; each loads and works when read', async () => {
    const entry = join(dir, 'entry.mjs');
    writeFileSync(entry, FIXTURE_ENTRY);
    const out = join(dir, 'out');
    await bundle(deployableBundleOptions({ entry }, out));
    assert.deepEqual(readdirSync(join(out, GENERATED_DIR)).sort(), GENERATED_PROTOS.map((generated) => generated.out).sort());
    const host = process.env.FIRESTORE_EMULATOR_HOST;
    assert.ok(host, 'FIRESTORE_EMULATOR_HOST is set (npm test starts the emulator)');
    const script = `const { probe } = await import(${JSON.stringify(pathToFileURL(join(out, 'entry.js')).href)}); process.stdout.write(JSON.stringify(await probe(${JSON.stringify(host)})));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, METADATA_SERVER_DETECTION: 'none' }, timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr);
    const report = JSON.parse(run.stdout);
    assert.deepEqual(report.atImport, [], 'nothing generated is loaded by importing the client');
    assert.deepEqual(report.read, { n: 3, found: true });
    assert.deepEqual(report.afterFirestore, [], 'nothing generated is loaded by a create, a transaction, a query and a batch');
    assert.deepEqual(report.used, {
      value: { stringValue: 'x' },
      objectValue: { mapValue: { fields: { field: { integerValue: '7' } } } },
      operation: 'operations/1',
      iam: 'function',
      location: 'function',
      sameProtos: true,
    });
    assert.deepEqual(report.afterUse, GENERATED_PROTOS.map((generated) => generated.out).sort());
  });

  it('the deployable carries them, and its chunks hold only the stand-ins', () => {
    assert.deepEqual(readdirSync(join(BUILD_DIR, GENERATED_DIR)).sort(), GENERATED_PROTOS.map((generated) => generated.out).sort());
    const metafile = JSON.parse(readFileSync(BUILD_METAFILE, 'utf8')) as Metafile;
    for (const generated of GENERATED_PROTOS) {
      const inChunks = Object.values(metafile.outputs).flatMap((output) => Object.entries(output.inputs).filter(([input]) => input === `node_modules/${generated.source}`).map(([, input]) => input.bytesInOutput));
      assert.equal(inChunks.length, 1, `${generated.source} is in one chunk`);
      assert.ok(inChunks[0]! < 1000, `only a stand-in of ${generated.source} is in the bundle (${inChunks[0]} bytes)`);
      const moved = readFileSync(join(BUILD_DIR, GENERATED_DIR, generated.out), 'utf8');
      assert.ok(moved.includes(readFileSync(join(ROOT, 'node_modules', generated.source), 'utf8')), `${generated.out} holds ${generated.source} unchanged`);
    }
  });

  it('a library whose rewritten text changed fails the build, naming the file', () => {
    for (const rewrite of REWRITES) {
      const text = readFileSync(join(ROOT, 'node_modules', rewrite.file), 'utf8');
      assert.doesNotThrow(() => applyRewrite(rewrite, text), rewrite.file);
      const changed = text.replace(rewrite.from, `${rewrite.from.slice(0, -1)} ${rewrite.from.slice(-1)}`);
      assert.throws(() => applyRewrite(rewrite, changed), (error: Error) => error instanceof LazyProtosError && error.message.includes(rewrite.file) && /no longer has/.test(error.message));
      assert.throws(() => applyRewrite(rewrite, `${text}\n${rewrite.from}`), LazyProtosError, `${rewrite.file}: the text twice`);
    }
    // A new use of a name that a rewrite replaced with a stand-in that lacks it.
    const serializer = REWRITES.find((rewrite) => rewrite.file.endsWith('serializer.js'))!;
    const text = readFileSync(join(ROOT, 'node_modules', serializer.file), 'utf8');
    assert.throws(() => applyRewrite(serializer, `${text}\nconst decoded = Value.decode(bytes);`), /now uses Value\./);
    const longrunning = REWRITES.find((rewrite) => rewrite.file.endsWith('longrunning.js'))!;
    assert.throws(() => applyRewrite(longrunning, `${readFileSync(join(ROOT, 'node_modules', longrunning.file), 'utf8')}\nconsole.log(operationProtos);`), /now uses operationProtos/);
    // A generated file that starts requiring something else than the bundle hands it.
    assert.throws(() => wrapGenerated('x/protos.js', 'module.exports = factory(require("protobufjs/light"));', ['protobufjs/minimal']), /now requires protobufjs\/light/);
    // Two bundled copies of one generated module would both load the one file written beside the bundle.
    const operations = GENERATED_PROTOS.find((generated) => generated.out === 'gax-operations.cjs')!;
    const generatedText = readFileSync(join(ROOT, 'node_modules', operations.source), 'utf8');
    const files = new GeneratedFiles();
    files.add(operations, '/a/node_modules/google-gax/build/protos/operations.js', generatedText);
    files.add(operations, '/a/node_modules/google-gax/build/protos/operations.js', generatedText); // esbuild loading the same file again
    assert.throws(() => files.add(operations, '/a/node_modules/x/node_modules/google-gax/build/protos/operations.js', text), /two copies of google-gax\/build\/protos\/operations\.js/);
    assert.ok(existsSync(join(ROOT, 'node_modules', GENERATED_PROTOS[0].source)));
  });
});
