import { Liquid, Tag, type Template } from 'liquidjs';
import { EscapeMode, escapers, outputText, plainValue, wellFormed } from './output-escapers.ts';
import { renderOutputsDirectly, renderTemplatesDirectly } from './direct-render.ts';
import { RENDER_LIMITS } from './render-limits.ts';

/** A problem with one template field of a webhook, worded for the person who wrote it. */
export class TemplateError extends Error {
  override name = 'TemplateError';
  readonly field: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly detail: string;

  constructor(field: string, detail: string, position?: { line: number; column: number }, options?: ErrorOptions) {
    const where = position ? ` at line ${position.line}, column ${position.column}` : '';
    super(`${field}: template error${where}: ${detail}`, options);
    this.field = field;
    this.detail = detail;
    this.line = position?.line;
    this.column = position?.column;
  }
}

/** A value printed as-is by any escape mode; lets `json` keep its quotes inside a JSON body. */
const rawFilter = (handler: (value: unknown, ...args: unknown[]) => unknown) => ({ handler, raw: true });

/** Tags that would read other templates from a file system; templates here stand alone. */
class DisabledTag extends Tag {
  constructor(token: ConstructorParameters<typeof Tag>[0], ...rest: unknown[]) {
    super(token, rest[0] as ConstructorParameters<typeof Tag>[1], rest[1] as ConstructorParameters<typeof Tag>[2]);
    throw new Error(`the ${token.name} tag is not available: templates cannot load other files`);
  }
  *render(): Generator<never, void, unknown> {}
}

function createLiquid(mode: EscapeMode): Liquid {
  const liquid = new Liquid({
    strictFilters: true, // a typo like `jsn` is an error, not a silent no-op
    ownPropertyOnly: true, // no prototype properties (constructor, __proto__) from data
    templates: {}, // an in-memory, empty file system
    relativeReference: false,
    parseLimit: RENDER_LIMITS.templateChars,
    renderLimit: RENDER_LIMITS.renderMs,
    memoryLimit: RENDER_LIMITS.memory,
    timezoneOffset: 0, // dates render in UTC unless a filter names a zone; instances run in UTC anyway
    cache: false, // compiled templates are cached by TemplateEngine, keyed by mode and source
    // `none` (headers, query values, text bodies) escapes nothing, but prints objects and arrays as JSON
    // like every other mode (templates.md), not as Liquid's joined text ("vipnew", "[object Object]").
    outputEscape: escapers[mode],
  });
  for (const name of ['include', 'render', 'layout']) liquid.registerTag(name, DisabledTag);
  liquid.registerFilter('json', rawFilter((value) => JSON.stringify(plainValue(value) ?? null)));
  liquid.registerFilter('url_component', (value: unknown) => encodeURIComponent(wellFormed(outputText(value))));
  liquid.registerFilter('xml_escape', (value: unknown) => escapers.xml(value));
  liquid.registerFilter('csv_field', (value: unknown) => escapers.csv(value));
  return renderTemplatesDirectly(liquid);
}

interface LiquidErrorShape {
  message: string;
  token?: { getPosition?: () => [number, number] };
  originalError?: Error;
}

function toTemplateError(field: string, error: unknown): TemplateError {
  const liquidError = error as LiquidErrorShape;
  const position = liquidError.token?.getPosition?.();
  const message = (liquidError.originalError?.message ?? liquidError.message ?? String(error))
    .replace(/, line:\d+, col:\d+$/, '')
    .replace(/^undefined filter: (.*)$/, "undefined filter '$1'");
  return new TemplateError(field, message, position ? { line: position[0], column: position[1] } : undefined, {
    cause: error,
  });
}

/** A template parsed by TemplateEngine.prepare: ready to render, or the error its parse gave. */
export type PreparedTemplate =
  | { field: string; liquid: Liquid; templates: Template[]; error: undefined }
  | { field: string; liquid: undefined; templates: undefined; error: TemplateError };

const CACHE_ENTRIES = 2000;

/**
 * Parses templates once per (escape mode, source) and renders them synchronously, so that renderLimit
 * measures this template's own time rather than time spent waiting behind other deliveries.
 */
export class TemplateEngine {
  private readonly liquids = new Map<EscapeMode, Liquid>();
  private readonly cache = new Map<string, Template[]>();

  private liquid(mode: EscapeMode): Liquid {
    let liquid = this.liquids.get(mode);
    if (!liquid) {
      liquid = createLiquid(mode);
      this.liquids.set(mode, liquid);
    }
    return liquid;
  }

  /** Parses (or takes from the cache) one template; throws TemplateError. */
  compile(field: string, source: string, mode: EscapeMode): Template[] {
    const key = `${mode}\u0000${source}`;
    const cached = this.cache.get(key);
    if (cached) {
      // Map keeps insertion order: re-inserting makes it the most recently used.
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached;
    }
    let templates: Template[];
    try {
      templates = renderOutputsDirectly(this.liquid(mode).parse(source), RENDER_LIMITS.blockDepth);
    } catch (error) {
      throw toTemplateError(field, error);
    }
    this.cache.set(key, templates);
    if (this.cache.size > CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
    return templates;
  }

  /** Renders one template against the context; throws TemplateError. */
  render(field: string, source: string, mode: EscapeMode, context: object): string {
    return this.renderPrepared(this.prepare(field, source, mode), context);
  }

  /**
   * Parses one template for repeated rendering: the caller keeps the result for as long as the webhook
   * version lives, so each render skips the cache lookup (a key as long as the template). A template
   * that does not parse is kept as its error, thrown at each render like a fresh parse would.
   */
  prepare(field: string, source: string, mode: EscapeMode): PreparedTemplate {
    try {
      return { field, liquid: this.liquid(mode), templates: this.compile(field, source, mode), error: undefined };
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      return { field, liquid: undefined, templates: undefined, error };
    }
  }

  /** Renders a prepared template against the context; throws TemplateError. */
  renderPrepared(prepared: PreparedTemplate, context: object): string {
    if (prepared.error) throw prepared.error;
    try {
      return String(prepared.liquid.renderSync(prepared.templates, context));
    } catch (error) {
      throw toTemplateError(prepared.field, error);
    }
  }

  get cachedTemplates(): number {
    return this.cache.size;
  }
}
