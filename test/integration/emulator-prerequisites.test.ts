import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../../scripts/build.ts';

// README: where gcloud, Java or an emulator component is missing, npm test and npm start say which.
describe('missing emulators are named', () => {
  it('without gcloud on the PATH, starting the emulators fails with what to install', () => {
    const script = join(mkdtempSync(join(tmpdir(), 'hookshape-prereq-')), 'probe.ts');
    writeFileSync(script, `import { ensureEmulators } from ${JSON.stringify(join(ROOT, 'functions/dev/emulators.ts'))};
try { await ensureEmulators('p', {}); console.log('started'); } catch (error) { console.log(error.name + ': ' + error.message); }
`);
    // Only Node's own directory on the PATH: no gcloud, no java.
    const result = spawnSync(process.execPath, [script], { encoding: 'utf8', env: { PATH: dirname(process.execPath), HOME: tmpdir() } });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^EmulatorMissingError: cannot start the emulators \(pubsub, firestore\):/);
    assert.match(result.stdout, /gcloud is not installed: install the Google Cloud SDK with the "beta", "pubsub-emulator" and "cloud-firestore-emulator" components/);
  });
});
