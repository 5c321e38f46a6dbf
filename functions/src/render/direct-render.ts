import { performance } from 'node:perf_hooks';
import * as liquidjs from 'liquidjs';
import type { Context, Emitter, Liquid, Output as OutputNode, Tag as TagNode, Template, TokenKind as TokenKindValue } from 'liquidjs';

// Read once: liquidjs is CommonJS, and in the bundle every use of an imported name of a CommonJS module
// calls a getter; in the render's inner loop that was a tenth of a render (bench: render). The global
// `performance` is a getter too, hence the import.
const { Drop, evalToken, evalTokenValue, LiquidError, Output, RenderError, Tag, TokenKind, toValueSync, UndefinedVariableError } = liquidjs;

/**
 * liquidjs renders through generators: each `{{ }}` output through a chain of them (Output, Value,
 * Expression, evalToken, Context._get, Filter), each list of templates through Render.renderTemplates,
 * and renderSync drives them one step at a time. A synchronous render has nothing to wait for, so the
 * engine's Liquid instances (which only ever render synchronously) do the same work directly, with
 * liquidjs's own pieces: Context.findScope and readProperty for variables, each filter's own handler
 * with the same `this`, each tag's own render, the same render-time checks and error wrapping. The
 * results and the errors are liquidjs's (test/unit/direct-render.test.ts and direct-render-fuzz.test.ts
 * render edge cases and thousands of random templates both ways);
 * it costs well under half the CPU (npm run bench: render). Anything this does not read directly
 * (ranges, a property of a literal, expressions with operators) goes through liquidjs's evaluator.
 */

// The parts of liquidjs's parsed output this reads (public classes, fields not in its typings). liquidjs
// is pinned (package.json); after an upgrade the differential tests say whether these still hold.
interface ParsedToken {
  kind: TokenKindValue;
  content?: unknown;
  variable?: ParsedToken;
  props?: ParsedToken[];
}
interface ParsedFilter {
  args: Array<ParsedToken | [string, ParsedToken]>;
  handler: (this: unknown, ...args: unknown[]) => unknown;
  token: unknown;
  liquid: unknown;
}
interface ParsedOutput {
  value: { initial: { postfix: ParsedToken[]; evaluate(ctx: Context, lenient: boolean): unknown }; filters: ParsedFilter[] };
}

const isIterator = (value: unknown): value is Iterator<unknown> =>
  typeof value === 'object' && value !== null && typeof (value as Iterator<unknown>).next === 'function' && typeof (value as Iterator<unknown>).throw === 'function';
/** What `yield` gives inside liquidjs's sync render: a generator's result, anything else as is. */
const settled = (value: unknown): unknown => (isIterator(value) ? toValueSync(value) : value);
/** liquidjs's toValue: a drop as its value. */
const valueOf = (value: unknown): unknown => (value instanceof Drop && typeof value.valueOf === 'function' ? settled(value.valueOf()) : value);

/** evalToken(token, ctx, false), read directly when the token is a literal or a plain variable path. */
function evaluate(token: ParsedToken | undefined, ctx: Context): unknown {
  if (token === undefined) return undefined; // a keyword argument without a value (`default: x:`)
  if ('content' in token) return token.content;
  // `variable` is set for a property of a literal or range ("abc".size); strict variables throw per step.
  if (token.kind === TokenKind.PropertyAccess && token.variable === undefined && !ctx.strictVariables) {
    const paths = token.props!.map((prop) => ('content' in prop ? valueOf(prop.content) : toValueSync(evalTokenValue(prop as never, ctx))));
    try {
      // findScope is private in liquidjs's typings but is what Context._get calls first.
      let scope: unknown = (ctx as unknown as { findScope(key: unknown): unknown }).findScope(paths[0]);
      for (const path of paths) scope = settled(ctx.readProperty(scope as never, path as never));
      return scope;
    } catch (error) {
      throw new UndefinedVariableError(error as Error, token as never);
    }
  }
  return toValueSync(evalToken(token as never, ctx, false));
}

const liquidjsOutputRender = Output.prototype.render as unknown as (this: ParsedOutput, ctx: Context, emitter: Emitter) => unknown;

function renderDirectly(this: ParsedOutput, ctx: Context, emitter: Emitter): unknown {
  // An async render may wait on a filter's promise; strict variables with lenientIf make `default` lenient.
  if (!ctx.sync || ctx.strictVariables) return liquidjsOutputRender.call(this, ctx, emitter);
  const { initial, filters } = this.value;
  // One token that is an operator (`{{ not }}`, `{{ contains }}`) is evaluated by liquidjs's Expression.
  const single = initial.postfix.length === 1 && initial.postfix[0]!.kind !== TokenKind.Operator ? initial.postfix[0] : undefined;
  let value = single ? evaluate(single, ctx) : toValueSync(initial.evaluate(ctx, false) as never);
  for (const filter of filters) {
    const args = filter.args.map((arg) => (Array.isArray(arg) ? [arg[0], evaluate(arg[1], ctx)] : evaluate(arg, ctx)));
    value = settled(filter.handler.apply({ context: ctx, token: filter.token, liquid: filter.liquid }, [value, ...args]));
  }
  emitter.write(valueOf(value));
  return undefined;
}

const isParsedOutput = (output: OutputNode): boolean => {
  const value = (output as unknown as Partial<ParsedOutput>).value;
  return Array.isArray(value?.initial?.postfix) && typeof value.initial.evaluate === 'function' && Array.isArray(value.filters) && value.filters.every((filter) => Array.isArray(filter.args) && typeof filter.handler === 'function');
};

/** Marks how an output is rendered, so a test can tell that the direct path is the one in use. */
export const DIRECT_OUTPUT_RENDER = renderDirectly;

/**
 * Makes every output of parsed templates, in tag blocks too, render directly. Blocks are found
 * generically (arrays of templates in a tag's fields, or in its branch objects), so a tag liquidjs
 * adds later keeps working: an output this does not reach renders through liquidjs as before.
 * Blocks nested deeper than `maxBlockDepth` are refused (an error naming the tag's position): the
 * direct render uses a few stack frames per level where liquidjs's generators use one, so without a
 * bound the depth a template may have would depend on the stack left at render time.
 */
export function renderOutputsDirectly(templates: Template[], maxBlockDepth: number): Template[] {
  const visit = (node: unknown, blocks: number, depth: number): void => {
    if (depth > 8 * (maxBlockDepth + 1) || typeof node !== 'object' || node === null) return;
    if (node instanceof Output) {
      // An output of another shape (a liquidjs upgrade) keeps liquidjs's render: slower, still right.
      if (isParsedOutput(node)) (node as unknown as { render: unknown }).render = renderDirectly;
    } else if (Array.isArray(node)) {
      for (const item of node) visit(item, blocks, depth + 1);
    } else if (node instanceof Tag || Object.getPrototypeOf(node) === Object.prototype) {
      const inner = node instanceof Tag ? blocks + 1 : blocks;
      if (inner > maxBlockDepth) throw Object.assign(new Error(`blocks (for, if, case, capture...) are nested more than ${maxBlockDepth} deep`), { token: (node as TagNode).token });
      // A tag's fields, or a branch object ({ templates, ... }) of if, unless and case.
      for (const field of Object.values(node)) if (Array.isArray(field) || Object.getPrototypeOf(field ?? 0) === Object.prototype) visit(field, inner, depth + 1);
    }
  };
  visit(templates, 0, 0);
  return templates;
}

/** liquidjs's SimpleEmitter: the text of what is written, arrays joined, nil as nothing. */
class TextEmitter implements Emitter {
  buffer = '';
  write(html: unknown): void {
    this.buffer += text(html);
  }
}
const text = (value: unknown): string => {
  const plain = valueOf(value);
  if (typeof plain === 'string') return plain;
  if (plain === null || plain === undefined) return '';
  if (Array.isArray(plain)) return plain.map(text).join('');
  return String(plain);
};

type RenderTemplates = (templates: Template[], ctx: Context, emitter?: Emitter) => unknown;

/**
 * Makes a Liquid instance's renderer render lists of templates (the top level, and every tag's
 * blocks) in a plain loop, as Render.renderTemplates does in its generator: the render-time limit
 * checked before the list and each later template, a failure wrapped as a RenderError of that template, and
 * a break or continue ending the list. An asynchronous render, or options this does not reproduce
 * (catchAllErrors, keepOutputType), keep liquidjs's own.
 */
export function renderTemplatesDirectly(liquid: Liquid): Liquid {
  const renderer = liquid.renderer as unknown as { renderTemplates: RenderTemplates };
  const own = renderer.renderTemplates.bind(renderer);
  renderer.renderTemplates = (templates, ctx, emitter) => {
    if (!ctx.sync || ctx.opts.catchAllErrors || (!emitter && ctx.opts.keepOutputType) || typeof ctx.renderLimit?.check !== 'function') return own(templates, ctx, emitter);
    const out = emitter ?? new TextEmitter();
    const limit = ctx.renderLimit;
    limit.check(performance.now());
    // liquidjs checks again before the first template, nanoseconds later; that check is left out.
    for (let i = 0; i < templates.length; i++) {
      const template = templates[i]!;
      if (i > 0) limit.check(performance.now());
      try {
        const html = settled(template.render(ctx, out));
        if (html) out.write(html);
        if (ctx.breakCalled || ctx.continueCalled) break;
      } catch (error) {
        throw LiquidError.is(error) ? error : new RenderError(error as Error, template);
      }
    }
    return (out as unknown as { buffer: unknown }).buffer;
  };
  return liquid;
}
