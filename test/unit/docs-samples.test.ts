/**
 * Every code sample of the README, docs/ and terraform/README.md runs or parses, and every link lands (docs/development.md:
 * "Docs: generated parts and their tests"). A fenced block's info string says what it is:
 *
 *   ```json                     parses
 *   ```json webhook             a whole webhook document: passes the validation the trigger runs
 *   ```json webhook-fields      fields added to a minimal webhook on call.created: the result passes it
 *   ```yaml [webhook] [file=F]  parses (every document); `file=F`: a console block of the page may use F
 *   ```liquid [format=F] [event=T]  as the body of a webhook on T (call.created) in format F (text): renders
 *                               against T's catalogue sample to a body that parses as F
 *   ```js                       parses (esbuild)
 *   ```sh                       each command: npm scripts exist, hookshape commands and options are in the
 *                               command's --help, node scripts exist, curl calls name a route of the API
 *   ```console                  `$ ` lines as sh; `hookshape validate|preview FILE` of a file of the page runs
 *                               and prints the lines shown under it
 *   ```                         output or a picture: not checked
 *
 * Inline code that starts with `hookshape `, `npx hookshape `, `npm run ` or `node scripts/` is checked
 * like a shell command. Only unit-level work: the CLI's sources are spawned for --help, no emulator.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { transform } from 'esbuild';
import { parseAllDocuments } from 'yaml';
import { routes } from '../../functions/src/api/routes.ts';
import { DEPLOYED_ENV_VARS, LOCAL_ONLY_ENV_VARS, LOCAL_STACK_ENV_VARS } from '../../functions/src/config/runtime-config.ts';
import { isEventType } from '../../functions/src/events/event-catalogue.ts';
import { TemplateEngine } from '../../functions/src/render/template-engine.ts';
import { validateWebhookDocument, type ValidationIssue } from '../../functions/src/validation/validate-webhook.ts';
import { BodyFormat, WEBHOOK_FIELDS } from '../../functions/src/webhooks/webhook-config.ts';
import { headingAnchor } from '../../scripts/doc-sections.ts';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..', '..');
const CLI = join(ROOT, 'functions', 'cli', 'hookshape.ts');
const run = promisify(execFile);

export const DOC_FILES = ['README.md', 'terraform/README.md', ...readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

export interface CodeBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  /** `webhook`, `format=json`... */
  attrs: Map<string, string>;
  content: string;
}

/** Fenced code blocks of a Markdown text (indented fences of list items included). */
export function codeBlocks(file: string, text: string): CodeBlock[] {
  const lines = text.split('\n');
  const blocks: CodeBlock[] = [];
  for (let index = 0; index < lines.length; index++) {
    const open = /^(\s*)(`{3,})(.*)$/.exec(lines[index]!);
    if (!open) continue;
    const [, indent, fence, info] = open as unknown as [string, string, string, string];
    const body: string[] = [];
    let end = index + 1;
    while (end < lines.length && !new RegExp(`^\\s*${fence}\\s*$`).test(lines[end]!)) {
      body.push(lines[end]!.startsWith(indent) ? lines[end]!.slice(indent.length) : lines[end]!);
      end++;
    }
    assert.ok(end < lines.length, `${file}:${index + 1}: a code block that is never closed`);
    const [lang = '', ...words] = info.trim().split(/\s+/).filter(Boolean);
    const attrs = new Map(words.map((word) => (word.includes('=') ? [word.slice(0, word.indexOf('=')), word.slice(word.indexOf('=') + 1)] : [word, '']) as [string, string]));
    blocks.push({ file, line: index + 1, lang, attrs, content: body.join('\n') });
    index = end;
  }
  return blocks;
}

/** The Markdown outside code blocks (code lines blanked, so line numbers stay). */
function prose(text: string): string {
  const lines = text.split('\n');
  let fence: string | undefined;
  return lines
    .map((line) => {
      const marker = /^\s*(`{3,})/.exec(line)?.[1];
      if (fence) {
        if (marker === fence && /^\s*`+\s*$/.test(line)) fence = undefined;
        return '';
      }
      if (marker) {
        fence = marker;
        return '';
      }
      return line;
    })
    .join('\n');
}

// --- Webhook documents ---------------------------------------------------------------------------

const engine = new TemplateEngine();
/** What `webhook-fields` and Liquid blocks are added to. */
const BASE_WEBHOOK = { name: 'docs sample', events: ['call.created'], url: 'https://receiver.example.com/hooks/calls' };

async function validationProblems(document: unknown, options: { allowLoopback?: boolean } = {}): Promise<string[]> {
  const report = await validateWebhookDocument(document, { accountId: 'acc_docs', webhookId: 'docs-sample', engine, ...options });
  const show = (kind: string) => (issue: ValidationIssue) => `${kind} ${issue.field || 'document'}${issue.line ? ` (line ${issue.line}, column ${issue.column})` : ''}: ${issue.message}${issue.eventType ? ` [${issue.eventType}]` : ''}`;
  // A sample in the docs should not even warn: a warning is a misspelt field or a variable the event lacks.
  return [...report.errors.map(show('error')), ...report.warnings.map(show('warning'))];
}

// --- Shell ---------------------------------------------------------------------------------------

/** Words of one simple command, quotes removed; `$(...)` substitutions are returned apart. */
interface ShellCommand {
  words: string[];
  /** Where it is, for messages. */
  where: string;
}

/** `a && b | c; d` → simple commands, with the commands inside `$( )` too. Heredoc bodies are taken out by the caller. */
export function shellCommands(source: string, where: string): ShellCommand[] {
  const commands: ShellCommand[] = [];
  let words: string[] = [];
  let word = '';
  let inWord = false;
  let redirect = false;
  const endWord = () => {
    if (!inWord) return;
    if (redirect) redirect = false;
    else words.push(word);
    word = '';
    inWord = false;
  };
  const endCommand = () => {
    endWord();
    if (words.length > 0) commands.push({ words, where });
    words = [];
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === "'") {
      const close = source.indexOf("'", i + 1);
      assert.ok(close !== -1, `${where}: unterminated '`);
      word += source.slice(i + 1, close);
      inWord = true;
      i = close;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < source.length && source[j] !== '"'; j++) {
        if (source[j] === '\\' && j + 1 < source.length) {
          word += source[++j];
        } else if (source.startsWith('$(', j)) {
          const close = matchingParen(source, j + 1, where);
          commands.push(...shellCommands(source.slice(j + 2, close), where));
          word += '$SUBSTITUTION';
          j = close;
        } else word += source[j];
      }
      assert.ok(j < source.length, `${where}: unterminated "`);
      inWord = true;
      i = j;
    } else if (c === '\\' && source[i + 1] === '\n') {
      i++;
    } else if (c === '\\') {
      word += source[++i] ?? '';
      inWord = true;
    } else if (source.startsWith('$(', i)) {
      const close = matchingParen(source, i + 1, where);
      commands.push(...shellCommands(source.slice(i + 2, close), where));
      word += '$SUBSTITUTION';
      inWord = true;
      i = close;
    } else if (c === '|' || c === ';' || c === '&' || c === '\n') {
      endCommand();
      if (source[i + 1] === c) i++;
    } else if (c === '>' || c === '<') {
      endWord();
      while (source[i + 1] === '>' || source[i + 1] === '<') i++;
      redirect = true;
    } else if (/\s/.test(c)) {
      endWord();
    } else {
      word += c;
      inWord = true;
    }
  }
  endCommand();
  return commands;
}

function matchingParen(source: string, open: number, where: string): number {
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    if (source[i] === '(') depth++;
    else if (source[i] === ')' && --depth === 0) return i;
  }
  assert.fail(`${where}: unterminated $(`);
}

/** A shell block without its comments and heredoc bodies; the bodies are returned with their delimiter. */
export function splitHeredocs(source: string): { script: string; heredocs: Array<{ delimiter: string; body: string }> } {
  const out: string[] = [];
  const heredocs: Array<{ delimiter: string; body: string }> = [];
  const lines = source.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/(^|\s)#\s.*$/, '$1').replace(/^#.*$/, '');
    out.push(line);
    const heredoc = /<<-?\s*['"]?(\w+)['"]?/.exec(line);
    if (!heredoc) continue;
    const body: string[] = [];
    while (++i < lines.length && lines[i]!.trim() !== heredoc[1]) body.push(lines[i]!);
    heredocs.push({ delimiter: heredoc[1]!, body: body.join('\n') });
  }
  return { script: out.join('\n'), heredocs };
}

const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const PROGRAMS_NOT_CHECKED = new Set(['gcloud', 'terraform', 'printf', 'echo', 'sleep', 'cat', 'openssl']);

const helpCache = new Map<string, Promise<string>>();
/** `hookshape [command] --help`: its text, or a failure when the command does not exist. */
function cliHelp(command: string | undefined): Promise<string> {
  const key = command ?? '';
  let help = helpCache.get(key);
  if (!help) {
    help = run(process.execPath, [CLI, ...(command ? [command] : []), '--help'], { cwd: ROOT, env: { ...process.env, FORCE_COLOR: '0' } }).then(
      ({ stdout }) => stdout,
      (error: { code?: number; stderr?: string }) => {
        throw new Error(`hookshape ${command ?? ''} --help exited ${error.code}: ${error.stderr ?? ''}`);
      },
    );
    helpCache.set(key, help);
  }
  return help;
}

const isPlaceholder = (word: string) => /^[<[(]/.test(word) || /^[A-Z_]+$/.test(word);

/** `hookshape ...` words after the program: the command exists, its subcommand and options are in its help. */
async function checkCli(args: readonly string[], where: string): Promise<void> {
  const command = args.find((word) => !word.startsWith('-'));
  const known = command !== undefined && !isPlaceholder(command) ? command : undefined;
  const help = await cliHelp(known);
  if (known) assert.ok((await cliHelp(undefined)).includes(`  ${known} `), `${where}: hookshape has no command '${known}'`);
  if (known === 'keys') {
    const sub = args[args.indexOf(known) + 1];
    if (sub && !sub.startsWith('-') && !isPlaceholder(sub)) assert.match(help, new RegExp(`hookshape keys ${sub}\\b`), `${where}: hookshape keys has no '${sub}'`);
  }
  for (const word of args.join(' ').match(/(?<![\w-])--[a-z][a-z-]*/g) ?? []) {
    assert.match(help, new RegExp(`(?<![\\w-])${word}(?![\\w-])`), `${where}: hookshape ${known ?? ''} --help does not list ${word}`);
  }
}

/** `$API/accounts/a/webhooks/w/...` or `.../v1/...`: a route of the route table, with this method. */
function checkCurl(words: readonly string[], where: string): void {
  const url = words.find((word) => word.includes('$API/') || /\/v1\//.test(word));
  if (!url) return;
  const path = (url.includes('$API/') ? `/v1/${url.slice(url.indexOf('$API/') + 5)}` : url.slice(url.indexOf('/v1/'))).split('?')[0]!;
  const x = words.indexOf('-X');
  const method = (x !== -1 ? words[x + 1]! : words.some((word) => ['-d', '--data', '--data-raw', '--json'].includes(word)) ? 'POST' : 'GET').toLowerCase();
  const segments = path.split('/');
  const match = Object.values(routes).some(({ route }) => {
    const template = (route as { path: string }).path.split('/');
    return (route as { method: string }).method === method && template.length === segments.length && template.every((part, i) => (part.startsWith('{') ? segments[i]!.length > 0 : part === segments[i]));
  });
  assert.ok(match || (method === 'get' && path === '/v1/openapi.json'), `${where}: ${method.toUpperCase()} ${path} is not a route of functions/src/api/routes.ts`);
}

async function checkCommand({ words: all, where }: ShellCommand, cwd: { dir: string }): Promise<void> {
  const words = all.slice(all.findIndex((word) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(word)));
  if (words.length === 0 || all.every((word) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(word))) return; // assignments only
  const [program, ...args] = words as [string, ...string[]];
  if (program === 'npx' || program === 'hookshape') {
    const rest = program === 'npx' ? args : words;
    assert.equal(rest[0], 'hookshape', `${where}: npx ${rest[0]} (only npx hookshape is documented)`);
    return checkCli(rest.slice(1), where);
  }
  if (program === 'npm') {
    const [sub, ...more] = args.filter((word) => word !== '-s');
    if (sub === 'install' || sub === 'ci') return;
    assert.ok(sub === 'start' || sub === 'test' || sub === 'run', `${where}: npm ${sub}`);
    const script = sub === 'run' ? more[0] : sub;
    assert.ok(script && packageJson.scripts[script], `${where}: package.json has no script '${script}'`);
    const extra = more.slice(sub === 'run' ? 2 : 1);
    if (script === 'hookshape') return checkCli(extra, where);
    for (const file of extra.filter((word) => word.endsWith('.ts') && word.includes('/'))) assert.ok(existsSync(join(ROOT, file)), `${where}: ${file} does not exist`);
    return;
  }
  if (program === 'node' || program === 'node_modules/.bin/node') {
    if (args[0] === '-p' || args[0] === '-e') return;
    if (args[0] === relative(ROOT, CLI)) return checkCli(args.slice(1), where);
    assert.ok(args[0] && existsSync(join(ROOT, args[0])), `${where}: node ${args[0]}: no such file`);
    return;
  }
  if (program === 'curl') return checkCurl(args, where);
  if (program === 'cd') {
    const next = resolve(cwd.dir, args[0] ?? '.');
    assert.ok(existsSync(next) && statSync(next).isDirectory(), `${where}: cd ${args[0]}: no such directory`);
    cwd.dir = next;
    return;
  }
  if (program === 'cp') {
    assert.ok(existsSync(resolve(cwd.dir, args[0]!)), `${where}: cp ${args[0]}: no such file`);
    return;
  }
  assert.ok(PROGRAMS_NOT_CHECKED.has(program), `${where}: '${program}' is not a program the docs test knows (add it to PROGRAMS_NOT_CHECKED if it needs no check)`);
}

async function checkShell(source: string, where: string): Promise<void> {
  const { script, heredocs } = splitHeredocs(source);
  for (const { delimiter, body } of heredocs) {
    if (delimiter !== 'JSON') continue;
    // Shell variables in the body stand for local addresses (the demo receiver).
    const document = JSON.parse(body.replace(/\$[A-Z_]+/g, 'http://127.0.0.1:9')) as Record<string, unknown>;
    const { id: _id, ...webhook } = document;
    if ('url' in webhook) assert.deepEqual(await validationProblems(webhook, { allowLoopback: true }), [], `${where}: the webhook of the heredoc`);
  }
  const cwd = { dir: ROOT };
  for (const command of shellCommands(script, where)) await checkCommand(command, cwd);
}

// --- The docs ------------------------------------------------------------------------------------

const docs = DOC_FILES.map((file) => ({ file, text: readFileSync(join(ROOT, file), 'utf8') }));
const blocks = docs.flatMap(({ file, text }) => codeBlocks(file, text));
const KNOWN_LANGS = new Set(['', 'json', 'yaml', 'liquid', 'js', 'html', 'sh', 'console']);

describe('the code samples of the README and docs/', () => {
  // Each command's --help once, side by side (a node start each).
  before(async () => {
    const commands = [...(await cliHelp(undefined)).matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((match) => match[1]!);
    await Promise.all(commands.map((command) => cliHelp(command)));
  });

  it('are all of a kind this test checks (json, yaml, liquid, js, html, sh, console, or plain output)', () => {
    assert.ok(blocks.length > 40, `found ${blocks.length} blocks`);
    for (const block of blocks) assert.ok(KNOWN_LANGS.has(block.lang), `${block.file}:${block.line}: a \`\`\`${block.lang} block`);
  });

  it('JSON parses; webhook documents and fields pass validation', async () => {
    for (const block of blocks.filter((b) => b.lang === 'json')) {
      const where = `${block.file}:${block.line}`;
      let value: unknown;
      assert.doesNotThrow(() => (value = JSON.parse(block.content)), `${where}: not JSON`);
      if (block.attrs.has('webhook')) assert.deepEqual(await validationProblems(value), [], `${where}: webhook`);
      if (block.attrs.has('webhook-fields')) assert.deepEqual(await validationProblems({ ...BASE_WEBHOOK, ...(value as object) }), [], `${where}: webhook fields`);
    }
  });

  it('YAML parses; webhook documents pass validation', async () => {
    for (const block of blocks.filter((b) => b.lang === 'yaml')) {
      const where = `${block.file}:${block.line}`;
      const documents = parseAllDocuments(block.content);
      for (const document of Array.isArray(documents) ? documents : [documents]) assert.deepEqual(document.errors.map((error) => error.message), [], where);
      if (block.attrs.has('webhook')) assert.deepEqual(await validationProblems((Array.isArray(documents) ? documents[0] : documents)!.toJS()), [], `${where}: webhook`);
    }
  });

  it('Liquid renders against the catalogue sample, into a body that parses as its format', async () => {
    const liquid = blocks.filter((b) => b.lang === 'liquid');
    assert.ok(liquid.length >= 6);
    for (const block of liquid) {
      const where = `${block.file}:${block.line}`;
      const format = block.attrs.get('format') ?? 'text';
      const event = block.attrs.get('event') ?? 'call.created';
      assert.ok((BodyFormat as readonly string[]).includes(format), `${where}: format=${format}`);
      assert.ok(isEventType(event), `${where}: event=${event}`);
      assert.deepEqual(await validationProblems({ ...BASE_WEBHOOK, events: [event], format, body: block.content }), [], where);
    }
  });

  it('JavaScript parses', async () => {
    for (const block of blocks.filter((b) => b.lang === 'js')) {
      await assert.doesNotReject(transform(block.content, { loader: 'js', format: 'esm' }), `${block.file}:${block.line}`);
    }
  });

  it('HTML is well formed: every element closed in order, attributes quoted', () => {
    const VOID = new Set(['br', 'img', 'input', 'meta', 'link', 'hr']);
    for (const block of blocks.filter((b) => b.lang === 'html')) {
      const where = `${block.file}:${block.line}`;
      const open: string[] = [];
      for (const [, closing, name, attributes] of block.content.matchAll(/<(\/?)([a-z][a-z0-9-]*)([^>]*)>/g)) {
        assert.doesNotMatch(attributes!.replace(/"[^"]*"|'[^']*'/g, '""'), /=\s*[^"'\s>]/, `${where}: <${name}> has an unquoted attribute`);
        if (closing) assert.equal(open.pop(), name, `${where}: </${name}> closes another element`);
        else if (!VOID.has(name!) && !attributes!.endsWith('/')) open.push(name!);
      }
      assert.deepEqual(open, [], `${where}: not closed`);
    }
  });

  it('shell commands name npm scripts, files, hookshape commands and options, and API routes that exist', async () => {
    for (const block of blocks.filter((b) => b.lang === 'sh')) await checkShell(block.content, `${block.file}:${block.line}`);
    for (const block of blocks.filter((b) => b.lang === 'console')) {
      const commands = block.content.split('\n').filter((line) => line.startsWith('$ ')).map((line) => line.slice(2));
      assert.ok(commands.length > 0, `${block.file}:${block.line}: a console block without a $ command`);
      await checkShell(commands.join('\n'), `${block.file}:${block.line}`);
    }
  });

  it('inline commands (`hookshape …`, `npx hookshape …`, `npm run …`, `node scripts/…`) exist too', async () => {
    let checked = 0;
    for (const { file, text } of docs) {
      const lines = prose(text).split('\n');
      for (const [index, line] of lines.entries()) {
        for (const [, code] of line.matchAll(/`([^`]+)`/g)) {
          if (!/^(npx hookshape|hookshape|npm run|npm start|npm test|node scripts\/)( |$)/.test(code!)) continue;
          // Tables escape | as \|; alternatives in brackets are placeholders, not shell syntax.
          const source = code!.replaceAll('\\|', ' ').replace(/[()[\]]/g, ' ');
          for (const command of shellCommands(source, `${file}:${index + 1}`)) await checkCommand(command, { dir: ROOT });
          checked++;
        }
      }
    }
    assert.ok(checked > 30, `checked ${checked} inline commands`);
  });

  it('a console block that validates or previews a file of its page prints what the page shows', async () => {
    let ran = 0;
    for (const { file, text } of docs) {
      const pageBlocks = codeBlocks(file, text);
      const files = new Map(pageBlocks.filter((b) => b.attrs.has('file')).map((b) => [b.attrs.get('file')!, b.content]));
      for (const block of pageBlocks.filter((b) => b.lang === 'console')) {
        const [first, ...shown] = block.content.split('\n');
        const words = first!.slice(2).split(/\s+/);
        const [, , command, target] = words;
        if (words[0] !== 'npx' || (command !== 'validate' && command !== 'preview') || !target || !files.has(target)) continue;
        const dir = mkdtempSync(join(tmpdir(), 'hookshape-docs-'));
        writeFileSync(join(dir, target), files.get(target)!);
        const output = await run(process.execPath, [CLI, ...words.slice(2)], { cwd: dir, env: { ...process.env, FORCE_COLOR: '0' } }).then(
          ({ stdout, stderr }) => `${stdout}\n${stderr}`,
          (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}\n${error.stderr ?? ''}`,
        );
        let from = 0;
        for (const line of shown.filter((l) => l.trim() !== '')) {
          const at = output.indexOf(line, from);
          assert.ok(at !== -1, `${file}:${block.line}: '${first}' did not print ${JSON.stringify(line)} (in order); it printed:\n${output}`);
          from = at + line.length;
        }
        ran++;
      }
    }
    assert.ok(ran >= 1, 'the walk-through validates its draft file');
  });
});

describe('the links of the README and docs/', () => {
  /** Anchors GitHub makes for a Markdown file's headings (a repeated heading gets -1, -2...). */
  function anchors(text: string): Set<string> {
    const seen = new Map<string, number>();
    const result = new Set<string>();
    for (const [, heading] of prose(text).matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
      const base = headingAnchor(heading!.replace(/`/g, '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1'));
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      result.add(count === 0 ? base : `${base}-${count}`);
    }
    return result;
  }

  it('point at files that exist, and at headings that exist', () => {
    let checked = 0;
    for (const { file, text } of docs) {
      const lines = prose(text).replace(/`[^`\n]*`/g, '').split('\n');
      for (const [index, line] of lines.entries()) {
        for (const [, target] of line.matchAll(/\]\(([^)\s]+)\)/g)) {
          if (/^(https?:|mailto:)/.test(target!)) continue;
          const where = `${file}:${index + 1}: ${target}`;
          const [path, fragment] = target!.split('#') as [string, string | undefined];
          const destination = path === '' ? join(ROOT, file) : resolve(ROOT, dirname(file), path);
          assert.ok(existsSync(destination), `${where}: no such file`);
          if (fragment !== undefined && destination.endsWith('.md')) {
            assert.ok(anchors(readFileSync(destination, 'utf8')).has(fragment), `${where}: no heading with that anchor`);
          }
          checked++;
        }
      }
    }
    assert.ok(checked > 100, `checked ${checked} links`);
  });

  it('the anchor rule matches GitHub on the headings these docs use', () => {
    assert.equal(headingAnchor("Escaping: write the receiver's example, replace its values"), 'escaping-write-the-receivers-example-replace-its-values');
    assert.equal(headingAnchor('Rate limit (rateLimit)'), 'rate-limit-ratelimit');
    assert.equal(headingAnchor('hookshape.event.dead_lettered'), 'hookshapeeventdead_lettered');
    assert.equal(headingAnchor('The delivery state machine (functions/src/delivery/)'), 'the-delivery-state-machine-functionssrcdelivery');
  });
});

describe('the reference tables cover the code', () => {
  it('every environment variable of the functions and the local stack is in docs/operations.md#configuration', () => {
    const text = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8');
    const section = text.slice(text.indexOf('## Configuration'), text.indexOf('\n## ', text.indexOf('## Configuration') + 1));
    for (const name of [...DEPLOYED_ENV_VARS, ...LOCAL_ONLY_ENV_VARS, ...LOCAL_STACK_ENV_VARS]) assert.ok(section.includes(`\`${name}\``), name);
  });

  it('every field of a webhook document has a row in docs/webhooks.md#fields', () => {
    const text = readFileSync(join(ROOT, 'docs', 'webhooks.md'), 'utf8');
    for (const field of WEBHOOK_FIELDS) assert.match(text, new RegExp(`^\\| \`${field}\` \\|`, 'm'), field);
  });
});
