/**
 * Keeps the bundle's JavaScript ASCII where that is only a matter of comments. V8 holds each script's
 * source for the script's lifetime, one byte per character only when every character fits; one `—` in a
 * comment makes the whole source UTF-16. esbuild escapes non-ASCII characters in strings, templates and
 * names (its default `charset: 'ascii'`) but keeps comments, regular expressions and tagged templates
 * as written, so the 4 MB main chunk took 7.7 MB of heap on every instance instead of 3.9.
 *
 * A file whose non-ASCII characters are all in comments gets a `?` for each non-ASCII UTF-16 unit, a
 * line separator a line feed (the lines and columns its source map points at stay put). That it was all comments is checked, not assumed: the
 * rewritten file must print, comments and whitespace dropped, exactly as the original does. A file with
 * non-ASCII characters in its code (a regular expression, a tagged template, where an escape could
 * change the meaning; a string or a name, which esbuild's output never has raw) is left as it is.
 */
import { transform } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';

const NON_ASCII = /[^\x00-\x7f]/g;
const HAS_NON_ASCII = /[^\x00-\x7f]/;

/** The program without comments or whitespace: what the rewrite must not change. */
export const programOf = async (code: string): Promise<string> =>
  (await transform(code, { loader: 'js', format: 'esm', minifyWhitespace: true, legalComments: 'none', logLevel: 'silent' })).code;

/**
 * `code` with the non-ASCII characters of its comments replaced by `?`, when they are all in comments;
 * otherwise unchanged (`nonAsciiCode`).
 */
export async function asciiComments(code: string): Promise<{ code: string; nonAsciiCode: boolean }> {
  if (!HAS_NON_ASCII.test(code)) return { code, nonAsciiCode: false };
  const program = await programOf(code);
  if (HAS_NON_ASCII.test(program)) return { code, nonAsciiCode: true };
  // esbuild escapes non-ASCII strings and names when it prints them, so a program can be ASCII with
  // such characters in its code: the rewrite stands only if it prints exactly the same program.
  // U+2028 and U+2029 end lines (in JavaScript, and in the line numbers of stack traces and source
  // maps): each becomes a \n, which means the same; any other character a ?.
  const ascii = code.replace(NON_ASCII, (unit) => (unit === '\u2028' || unit === '\u2029' ? '\n' : '?'));
  const same = await programOf(ascii).then(
    (rewritten) => rewritten === program,
    () => false,
  );
  return same ? { code: ascii, nonAsciiCode: false } : { code, nonAsciiCode: true };
}

/** Rewrites each JavaScript file among `files` whose non-ASCII characters are all in comments. */
export async function asciiOutputFiles(files: readonly string[]): Promise<void> {
  await Promise.all(
    files
      .filter((name) => name.endsWith('.js'))
      .map(async (file) => {
        const code = readFileSync(file, 'utf8');
        const ascii = await asciiComments(code);
        if (ascii.code !== code) writeFileSync(file, ascii.code);
      }),
  );
}
