import { Drop, evalToken, evalTokenValue, Output, Tag, TokenKind, toValueSync, UndefinedVariableError, type Context, type Emitter, type Template } from 'liquidjs';

/**
 * liquidjs evaluates each `{{ }}` output through a chain of generators (Output, Value, Expression,
 * evalToken, Context._get, Filter), which renderSync then drives one step at a time. A synchronous
 * render has nothing to wait for, so this evaluates the same parsed output directly, with liquidjs's
 * own pieces: Context.findScope and readProperty for variables, each filter's own handler with the
 * same `this`. The result and the errors are liquidjs's (test/unit/direct-outputs.test.ts renders a
 * corpus both ways); it costs less than half the CPU (npm run bench: render). Anything this does not
 * read directly (ranges, a property of a literal, expressions with operators) goes through liquidjs's
 * evaluator as before. Tags are untouched; the outputs inside their blocks are rendered directly too.
 */

// The parts of liquidjs's parsed output this reads (public classes, fields not in its typings).
interface ParsedToken {
  kind: TokenKind;
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
function evaluate(token: ParsedToken, ctx: Context): unknown {
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

function renderDirectly(this: ParsedOutput, ctx: Context, emitter: Emitter): void {
  const { initial, filters } = this.value;
  let value = initial.postfix.length === 1 ? evaluate(initial.postfix[0]!, ctx) : toValueSync(initial.evaluate(ctx, false) as never);
  for (const filter of filters) {
    const args = filter.args.map((arg) => (Array.isArray(arg) ? [arg[0], evaluate(arg[1], ctx)] : evaluate(arg, ctx)));
    value = settled(filter.handler.apply({ context: ctx, token: filter.token, liquid: filter.liquid }, [value, ...args]));
  }
  emitter.write(valueOf(value));
}

/** Marks how an output is rendered, so a test can tell that the direct path is the one in use. */
export const DIRECT_OUTPUT_RENDER = renderDirectly;

/**
 * Makes every output of parsed templates, in tag blocks too, render directly. Blocks are found
 * generically (arrays of templates in a tag's fields, or in its branch objects), so a tag liquidjs
 * adds later keeps working: an output this does not reach renders through liquidjs as before.
 */
export function renderOutputsDirectly(templates: Template[]): Template[] {
  const visit = (node: unknown, depth: number): void => {
    if (depth > 64 || typeof node !== 'object' || node === null) return;
    if (node instanceof Output) {
      (node as unknown as { render: unknown }).render = renderDirectly;
    } else if (Array.isArray(node)) {
      for (const item of node) visit(item, depth + 1);
    } else if (node instanceof Tag || Object.getPrototypeOf(node) === Object.prototype) {
      // A tag's fields, or a branch object ({ templates, ... }) of if, unless and case.
      for (const field of Object.values(node)) if (Array.isArray(field) || (Object.getPrototypeOf(field ?? 0) === Object.prototype)) visit(field, depth + 1);
    }
  };
  visit(templates, 0);
  return templates;
}
