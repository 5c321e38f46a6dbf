/**
 * The direct render's tests render each source two ways: with the engine's templates (outputs and
 * template lists rendered directly, functions/src/render/direct-render.ts), and parsed afresh by the
 * same Liquid instance, rendered by liquidjs's own Render.renderTemplates. Each way gets its own copy
 * of the context (increment, assign and capture write to it) and gives back what came out — the text,
 * or the error's name, message, original error and position — and the context it left.
 */
import type { Liquid } from 'liquidjs';
import type { EscapeMode } from '../../functions/src/render/output-escapers.ts';
import type { TemplateEngine } from '../../functions/src/render/template-engine.ts';

export interface Rendered {
  /** `ok: <text>`, or `<name>: <message> | original ... | at line:column`. */
  text: string;
  /** The context after the render, as JSON. */
  context: string;
}

/** Runs `render` with liquidjs's own renderTemplates (the engine's is an own property of the renderer; the prototype's is liquidjs's). */
export function withLiquidjsRenderer<T>(liquid: Liquid, render: () => T): T {
  const renderer = liquid.renderer as unknown as { renderTemplates?: unknown };
  const direct = renderer.renderTemplates;
  delete renderer.renderTemplates;
  try {
    return render();
  } finally {
    renderer.renderTemplates = direct;
  }
}

function outcome(render: (context: object) => unknown, context: object): Rendered {
  const copy = structuredClone(context);
  let text: string;
  try {
    text = `ok: ${String(render(copy))}`;
  } catch (error) {
    const err = error as { name?: string; message?: string; originalError?: Error; token?: { getPosition?: () => number[] } };
    text = `${err.name}: ${err.message} | original ${err.originalError ? `${err.originalError.name}: ${err.originalError.message}` : '-'} | at ${err.token?.getPosition?.()?.join(':') ?? '-'}`;
  }
  return { text, context: JSON.stringify(copy) };
}

/** Both renders of one source; `parseError` instead when it does not parse (liquidjs's own error, the same either way). */
export function renderBothWays(engine: TemplateEngine, source: string, mode: EscapeMode, context: object): { direct: Rendered; liquidjs: Rendered; parseError?: string } {
  const prepared = engine.prepare('t', source, mode);
  if (prepared.error) {
    const parseError = { text: `${prepared.error.name}: ${prepared.error.message}`, context: '' };
    return { direct: parseError, liquidjs: parseError, parseError: prepared.error.message };
  }
  const { liquid, templates } = prepared;
  return {
    direct: outcome((copy) => liquid.renderSync(templates, copy), context),
    liquidjs: outcome((copy) => withLiquidjsRenderer(liquid, () => liquid.renderSync(liquid.parse(source), copy)), context),
  };
}

/** A difference, for a test's failure message. */
export const describeDifference = (mode: EscapeMode, source: string, both: { direct: Rendered; liquidjs: Rendered }): string =>
  `${mode} ${JSON.stringify(source)}\n  direct:   ${both.direct.text.slice(0, 300)} | context ${both.direct.context.slice(0, 200)}\n  liquidjs: ${both.liquidjs.text.slice(0, 300)} | context ${both.liquidjs.context.slice(0, 200)}`;

export const sameRender = (both: { direct: Rendered; liquidjs: Rendered }): boolean => both.direct.text === both.liquidjs.text && both.direct.context === both.liquidjs.context;
