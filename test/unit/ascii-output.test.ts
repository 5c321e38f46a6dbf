/** scripts/ascii-output.ts: the bundle's comments made ASCII, its code never changed. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asciiComments, programOf } from '../../scripts/ascii-output.ts';

/** Runs `code` as a module body and returns what it assigned to `result`. */
const run = (code: string): unknown => new Function(`let result;\n${code}\nreturn result;`)();

describe('non-ASCII characters in the bundle', () => {
  it('in comments: each UTF-16 unit becomes one ?, so the columns stay and the program is the same', async () => {
    const code = ['// Return ±0 — or ±Infinity 😀', 'result = 1 + /* José → */ 2;', '/**', ' * Tipus d\'unió invàlid', ' */', 'result += 1;'].join('\n');
    const { code: ascii, nonAsciiCode } = await asciiComments(code);
    assert.equal(nonAsciiCode, false);
    assert.match(ascii, /^[\x00-\x7f]*$/);
    assert.equal(ascii.length, code.length);
    assert.deepEqual(ascii.split('\n').map((line) => line.length), code.split('\n').map((line) => line.length));
    assert.ok(ascii.includes('// Return ?0 ? or ?Infinity ??'), ascii);
    assert.equal(ascii.indexOf('2;'), code.indexOf('2;'));
    assert.equal(await programOf(ascii), await programOf(code));
    assert.equal(run(ascii), 4);
  });

  it('in a regular expression or a tagged template: the file is left as it is', async () => {
    const inCode = ['result = "à".replace(/[àá]/g, "a"); // à', 'result = String.raw`é`; // é', 'result = /é/u.source;', 'const tag = (s) => s.raw[0]; result = tag`é`;'];
    // esbuild's bundles escape these themselves; written raw, they are code all the same.
    const escapedByEsbuild = ['const é = 1; result = é; // ±', 'result = `é${1}`; // ±', "result = 'é'; /* ± */"];
    for (const code of [...inCode, ...escapedByEsbuild]) {
      assert.deepEqual(await asciiComments(code), { code, nonAsciiCode: true }, code);
      assert.ok(run(code) !== undefined, code);
    }
  });

  it('a line or paragraph separator (a line end in JavaScript) becomes a line feed: the lines stay, and the code after it stays code', async () => {
    const code = 'result = 1; // one\u2028result += 1; /* two\u2029 */ result += 1;';
    const { code: ascii } = await asciiComments(code);
    assert.equal(ascii, 'result = 1; // one\nresult += 1; /* two\n */ result += 1;');
    assert.equal(run(ascii), 3);
    assert.equal(run(code), 3);
  });

  it('an ASCII file is returned as it is', async () => {
    const code = 'result = 1; // plain';
    assert.deepEqual(await asciiComments(code), { code, nonAsciiCode: false });
  });
});
