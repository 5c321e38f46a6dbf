/**
 * The engine renders `{{ }}` outputs and lists of templates directly instead of through liquidjs's
 * generators (functions/src/render/direct-render.ts). These tests render the same sources both ways
 * (render-both-ways.ts) and require the same text or error and the same context left behind, for a
 * table of edge cases, the limits, the demo webhook, and seeded random outputs over awkward data.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForTag, IfTag, Output, type Template } from 'liquidjs';
import { DEMO_BODY } from '../../functions/dev/demo-webhook.ts';
import { DIRECT_OUTPUT_RENDER } from '../../functions/src/render/direct-render.ts';
import { EscapeMode } from '../../functions/src/render/output-escapers.ts';
import { TemplateEngine, type PreparedTemplate } from '../../functions/src/render/template-engine.ts';
import { describeDifference, renderBothWays, sameRender, withLiquidjsRenderer } from './render-both-ways.ts';

const DATA = JSON.parse(`{
  "call": { "id": "call_1", "durationSeconds": 135, "startedAt": "2026-03-01T10:15:00Z", "channel": "video" },
  "agent": { "name": "Ana \\"la\\" Ruiz", "email": "ANA@EXAMPLE.COM" },
  "customer": { "name": "  Bob O'Neil <b>  ", "phone": "+34 600 000 000", "email": null },
  "tags": ["venta", "hogar, plus", "línea\\nnueva", "<script>", ""],
  "items": [{ "name": "b", "qty": 2, "ok": true }, { "name": "a", "qty": 1, "ok": false }, { "name": "c", "qty": null }],
  "matrix": [[1, 2], [3, [4, 5]]],
  "numbers": [3, 1.5, -2, 0],
  "odd": { "size": "own size", "first": "own first", "constructor": "own constructor", "__proto__": { "x": 1 }, "toLiquid": "not a function", "": "empty key", "a.b": "dotted" },
  "empty": {}, "none": [], "flag": false, "zero": 0, "text": "Hello, World", "key": "call", "index": 1,
  "html": "<a href=\\"x\\">&amp;</a>", "unicode": "ñ 😀 \\u0000 \\u2028", "big": 12345678901234567890, "neg": -1
}`);
const CONTEXT = { event: { id: 'evt_1', type: 'call.created', accountId: 'acc_1', occurredAt: '2026-03-01T10:20:00.000Z' }, data: DATA, webhook: { id: 'wh_1', name: 'Test' }, secrets: { TOKEN: 'tok' } };

const EDGE_CASES = [
  '{{ data.call.id }}', '{{ data.call["id"] }}', "{{ data['call'].id }}", '{{ data[data.key].id }}', '{{ data.tags[0] }}', '{{ data.tags[-1] }}',
  '{{ data.tags[data.index] }}', '{{ data.tags.size }}', '{{ data.tags.first }}', '{{ data.tags.last }}', '{{ data.text.size }}', '{{ data.odd.size }}',
  '{{ data.odd.first }}', '{{ data.odd.constructor }}', '{{ data.odd.__proto__.x }}', '{{ data.call.constructor }}', '{{ data.tags.length }}', '{{ data.odd.toLiquid }}',
  '{{ data.odd[""] }}', '{{ data.odd["a.b"] }}', '{{ data.missing }}', '{{ data.missing.deeper.still }}', '{{ missing }}', '{{ data.customer.email.x }}',
  '{{ data.matrix[1][1][0] }}', '{{ data.matrix }}', '{{ data.items }}', '{{ data }}', '{{ data.flag }}', '{{ data.zero }}', '{{ data.big }}', '{{ nil }}',
  '{{ empty }}', '{{ blank }}', '{{ true }}', "{{ 'quoted' }}", '{{ 42 }}', '{{ 1.50 }}', '{{ }}', '{{ (1..3) }}', '{{ (1..data.index) | join: "-" }}',
  '{{ "abc".size }}', '{{ data.tags | size }}', '{{ data.tags | join: ", " }}', '{{ data.tags | first | upcase }}', '{{ data.items | map: "name" | join }}',
  '{{ data.items | sort: "name" | map: "name" | join }}', '{{ data.items | where: "ok" | size }}', '{{ data.items | where: "name", "a" | first | json }}',
  '{{ data.numbers | sort | join }}', '{{ data.numbers | sum }}', '{{ data.call.durationSeconds | divided_by: 60.0 | round: 1 }}', '{{ data.zero | divided_by: 0 }}',
  '{{ data.call.startedAt | date: "%Y-%m-%d %H:%M" }}', '{{ data.call.startedAt | date: "%H:%M", "America/New_York" }}', '{{ "now" | date: "%Y" | size }}',
  '{{ data.customer.name | strip | escape }}', '{{ data.html | escape }}', '{{ data.html | strip_html }}', '{{ data.text | truncate: 5, ".." }}',
  '{{ data.text | truncatewords: 1 }}', '{{ data.text | split: ", " | last }}', '{{ data.text | replace: "l", data.key }}', '{{ data.text | append: data.call.id }}',
  '{{ data.missing | default: "fallback" }}', '{{ data.flag | default: true, allow_false: true }}', '{{ data.flag | default: "x" }}', '{{ data.none | default: empty }}',
  '{{ data.customer.email | default: data.agent.email | downcase }}', '{{ data.unicode | json }}', '{{ data.odd | json }}', '{{ data.tags | json }}',
  '{{ data.text | url_component }}', '{{ data.html | xml_escape }}', '{{ data.tags[1] | csv_field }}', '{{ data.zero == 0 }}', '{{ data.tags contains "venta" }}',
  '{{ data.neg | abs | plus: data.index | times: 2.5 | minus: 1 | modulo: 3 }}', '{{ data.text | slice: 1, 3 }}', '{{ data.text | slice: -3 }}',
  '{{ data.tags | reverse | compact | uniq | join: "|" }}', '{{ data.matrix | flatten | join }}', '{{ data.items | map: "qty" | compact | sum }}',
  '{{ secrets.TOKEN }}', '{{ event.occurredAt | date: "%s" }}', '{{ webhook.name | prepend: "[" | append: "]" }}', '{{ data.text | nosuchfilterhere }}',
  '{% assign k = "agent" %}{{ data[k].name }}', '{% assign list = data.tags | slice: 0, 2 %}{{ list | join }}', '{% capture c %}{{ data.call.id }}!{% endcapture %}{{ c | upcase }}',
  '{% for t in data.tags %}{{ forloop.index }}:{{ t | upcase }}{% unless forloop.last %},{% endunless %}{% endfor %}',
  '{% for t in data.none %}{{ t }}{% else %}{{ "none" }}{% endfor %}', '{% for i in (1..3) reversed %}{{ i }}{% break %}{% endfor %}',
  '{% for t in data.tags limit: 2 offset: 1 %}{{ forloop.rindex0 }}{{ forloop.length }}{% continue %}{{ t }}{% endfor %}',
  '{% if data.flag %}{{ "a" }}{% elsif data.zero == 0 %}{{ data.zero | plus: 1 }}{% else %}{{ "c" }}{% endif %}',
  '{% case data.call.channel %}{% when "video" %}{{ data.call.channel | capitalize }}{% else %}{{ "other" }}{% endcase %}',
  '{% for row in data.matrix %}{% for cell in row %}{{ cell | json }}{% endfor %};{% endfor %}', '{% tablerow t in data.tags cols: 2 %}{{ t }}{% endtablerow %}',
  '{% raw %}{{ data.call.id }}{% endraw %}{{ data.call.id }}', '{% liquid\n  assign x = data.call.id | upcase\n  echo x\n%}{{ x }}', '{{ data.tags | join: 5 }}',
  '{% increment n %}{{ n }}{% decrement m %}{{ m }}', '{% cycle "a", "b" %}{% cycle "a", "b" %}', '{{ data.text | split: "" | size }}',
  // Found by review: a lone operator word is an expression; a keyword argument may have no value.
  '{{ not }}', '{{ and }}', '{{ or }}', '{{ contains }}', '{{ == }}', '{% assign contains = "x" %}{{ contains }}', '{% for or in data.tags %}{{ or }}{% endfor %}',
  '{% capture and %}hi{% endcapture %}{{ and }}', '{{ data.zero | default: b: }}', '{{ data.text | truncate: 2, x: }}', '{{ data.text | prepend: x: | upcase }}',
];

/** The outputs of parsed templates, in tag blocks too (for the check that the direct path is in use). */
function outputsOf(templates: Template[]): Output[] {
  const found: Output[] = [];
  for (const template of templates) {
    if (template instanceof Output) found.push(template);
    if (template instanceof ForTag) found.push(...outputsOf([...template.templates, ...template.elseTemplates]));
    if (template instanceof IfTag) found.push(...outputsOf([...template.branches.flatMap((branch) => branch.templates), ...(template.elseTemplates ?? [])]));
  }
  return found;
}

describe('templates rendered directly', () => {
  it('are the path in use: every output of a prepared template, in for and if blocks too, and every list of templates', () => {
    const engine = new TemplateEngine();
    const prepared = engine.prepare('body', `${DEMO_BODY}{% if data.flag %}{{ data.x }}{% else %}{{ data.y }}{% endif %}`, 'json') as PreparedTemplate & { templates: Template[] };
    const outputs = outputsOf(prepared.templates);
    assert.ok(outputs.length >= 20, `found ${outputs.length} outputs`);
    assert.deepEqual(outputs.filter((output) => (output as unknown as { render: unknown }).render !== DIRECT_OUTPUT_RENDER), []);
    // And lists of templates: the renderer's own renderTemplates replaces the prototype's generator.
    assert.ok(Object.hasOwn(prepared.liquid!.renderer, 'renderTemplates'));
  });

  it('give what liquidjs gives for every edge case, in every escape mode', () => {
    const engine = new TemplateEngine();
    const differences: string[] = [];
    for (const mode of EscapeMode) {
      for (const source of EDGE_CASES) {
        const both = renderBothWays(engine, source, mode, CONTEXT);
        if (!sameRender(both)) differences.push(describeDifference(mode, source, both));
      }
    }
    assert.deepEqual(differences, []);
  });

  it('give what liquidjs gives for errors, with the same field, line and column', () => {
    const engine = new TemplateEngine();
    for (const source of ['{{ data.zero | divided_by: 0 }}', 'a\n  {{ data.call.id | date: 5, 6, 7 }}{{ data.items | where: "name", "a" | map: 3 }}', '{{ data.text | slice: data.nothing }}']) {
      const prepared = engine.prepare('body', source, 'json');
      const fresh = { ...prepared, templates: prepared.liquid!.parse(source) } as PreparedTemplate;
      const outcome = (template: PreparedTemplate) => {
        try {
          return `ok: ${template === fresh ? withLiquidjsRenderer(prepared.liquid!, () => engine.renderPrepared(template, CONTEXT)) : engine.renderPrepared(template, CONTEXT)}`;
        } catch (error) {
          return `${(error as Error).message} ${JSON.stringify({ field: (error as { field?: string }).field, line: (error as { line?: number }).line, column: (error as { column?: number }).column })}`;
        }
      };
      assert.equal(outcome(prepared), outcome(fresh), source);
    }
  });

  it('keep the render-time and memory limits (docs/security.md, Limits): hostile templates fail as with liquidjs', () => {
    const engine = new TemplateEngine();
    const hostile: Array<[string, RegExp]> = [
      ['{% for a in (1..100000) %}{% for b in (1..100000) %}{{ a }}{% endfor %}{% endfor %}', /template render limit exceeded/],
      ["{% assign s = 'xxxxxxxxxx' %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}{{ s | size }}", /memory alloc limit exceeded/],
      ['{{ (1..100000000) | join }}', /memory alloc limit exceeded/],
      ['{% for i in (1..10000000) %}{% capture c %}{{ c }}{{ i }}{% endcapture %}{% endfor %}', /memory alloc limit exceeded/],
    ];
    for (const [source, limit] of hostile) {
      const started = performance.now();
      const { direct, liquidjs } = renderBothWays(engine, source, 'none', CONTEXT);
      assert.match(direct.text, limit, source);
      assert.deepEqual(direct, liquidjs, source);
      // Both renders together: each is cut off at the 250 ms render limit, not left to run.
      assert.ok(performance.now() - started < 5000, `${source} took ${Math.round(performance.now() - started)} ms`);
    }
  });

  it('refuse blocks nested more than 100 deep at parse time, with the position; 100 render as liquidjs does', () => {
    const engine = new TemplateEngine();
    const nested = (depth: number, tag: string, args: string) => `${`{% ${tag} ${args} %}`.repeat(depth)}x${`{% end${tag} %}`.repeat(depth)}`;
    for (const [tag, args] of [['if', 'true'], ['unless', 'false'], ['for', 'i in (1..1)']] as const) {
      const { direct, liquidjs } = renderBothWays(engine, nested(100, tag, args), 'none', CONTEXT);
      assert.equal(direct.text, 'ok: x');
      assert.deepEqual(liquidjs, direct);
      const refused = engine.prepare('body', nested(101, tag, args), 'none');
      assert.equal(refused.error?.message, `body: template error at line 1, column ${1 + 100 * `{% ${tag} ${args} %}`.length}: blocks (for, if, case, capture...) are nested more than 100 deep`);
    }
  });

  it('leave outputs to liquidjs where the engine never renders: an async render, strict variables', async () => {
    const { Liquid } = await import('liquidjs');
    const { renderOutputsDirectly } = await import('../../functions/src/render/direct-render.ts');
    const strict = new Liquid({ strictVariables: true, lenientIf: true });
    assert.equal(strict.renderSync(renderOutputsDirectly(strict.parse('{{ missing | default: "x" }}'), 100), {}), 'x');
    const async = new Liquid();
    async.registerFilter('later', (value: unknown) => Promise.resolve(`${String(value)}!`));
    assert.equal(await async.render(renderOutputsDirectly(async.parse('{{ "a" | later }}'), 100), {}), 'a!');
  });

  it('leave an output of an unexpected shape (a liquidjs upgrade) to liquidjs, which renders it', async () => {
    const { Liquid, Output } = await import('liquidjs');
    const { renderOutputsDirectly } = await import('../../functions/src/render/direct-render.ts');
    const liquid = new Liquid();
    const templates = liquid.parse('{{ a | upcase }}-{{ b }}');
    const [changed] = templates.filter((t) => t instanceof Output) as unknown as Array<{ value: { filters: unknown } }>;
    changed!.value.filters = 'not an array'; // as if liquidjs kept its filters elsewhere
    renderOutputsDirectly(templates, 100);
    const renders = templates.filter((t) => t instanceof Output).map((t) => (t as unknown as { render: unknown }).render === DIRECT_OUTPUT_RENDER);
    assert.deepEqual(renders, [false, true]);
  });

  it('render the demo webhook body as liquidjs does', () => {
    const engine = new TemplateEngine();
    const { direct, liquidjs } = renderBothWays(engine, DEMO_BODY, 'json', CONTEXT);
    assert.deepEqual(direct, liquidjs);
    assert.match(direct.text, /"Call ID": "call_1"/);
  });

  it('give what liquidjs gives for 2,000 seeded random outputs over awkward data', () => {
    let seed = 20261207;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const paths = ['data', 'data.call', 'data.call.id', 'data.tags', 'data.tags[1]', 'data.tags[-2]', 'data.items', 'data.items[0].name', 'data.odd', 'data.odd.size', 'data.odd.constructor', 'data.matrix[1]', 'data.numbers', 'data.missing', 'data.flag', 'data.zero', 'data.unicode', 'data.html', 'data.customer.email', 'event.occurredAt', 'secrets.TOKEN', 'nil', '"lit"', '7', '-1.5', 'empty', 'data.text.size', 'data.none.first'];
    const filters = ['upcase', 'downcase', 'size', 'first', 'last', 'json', 'escape', 'strip', 'capitalize', 'join: ", "', 'join: data.text', 'default: "d"', 'default: data.call', 'plus: 1', 'times: data.index', 'divided_by: 3', 'round: 1', 'append: data.call.id', 'prepend: "x"', 'split: ","', 'map: "name"', 'sort', 'reverse', 'compact', 'uniq', 'where: "ok"', 'slice: 1', 'truncate: 4', 'replace: "a", data.key', 'url_component', 'xml_escape', 'csv_field', 'abs', 'date: "%Y"', 'concat: data.tags', 'sum', 'flatten'];
    const engine = new TemplateEngine();
    const differences: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const chain = Array.from({ length: Math.floor(random() * 4) }, () => ` | ${pick(filters)}`).join('');
      const source = `{{ ${pick(paths)}${chain} }}`;
      const mode = pick(EscapeMode);
      const both = renderBothWays(engine, source, mode, CONTEXT);
      if (!sameRender(both)) differences.push(describeDifference(mode, source, both));
    }
    assert.deepEqual(differences.slice(0, 10), []);
  });
});
