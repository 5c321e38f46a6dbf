import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { sampleEvent, type EventType } from '../../functions/src/events/event-catalogue.ts';
import { buildRequest } from '../../functions/src/render/build-request.ts';
import { TemplateEngine } from '../../functions/src/render/template-engine.ts';
import { parseCurl } from '../../functions/src/scaffold/parse-curl.ts';
import { nameTokens } from '../../functions/src/scaffold/name-tokens.ts';
import { detectFormat, scaffoldWebhook, type ScaffoldResult } from '../../functions/src/scaffold/scaffold-webhook.ts';
import { validateWebhookDocument, webhookPlaceholderSecrets } from '../../functions/src/validation/validate-webhook.ts';
import { parseWebhookConfig } from '../../functions/src/webhooks/webhook-config.ts';

// Receivers' documented examples (test/fixtures/scaffold/), scaffolded for an event type: which field
// takes which variable, which stay literal, and that the draft is a webhook the dispatcher accepts and
// whose rendered request parses in its format with the sample's values in the right places.

const fixture = (name: string) => readFileSync(new URL(`../fixtures/scaffold/${name}`, import.meta.url), 'utf8');
const engine = new TemplateEngine();

type Ok = Extract<ScaffoldResult, { ok: true }>;

async function scaffold(eventType: EventType, example: string): Promise<Ok> {
  const result = await scaffoldWebhook({ eventType, example });
  assert.ok(result.ok, `scaffold refused the example: ${JSON.stringify(result)}`);
  return result;
}

const mappings = (result: Ok) => Object.fromEntries(result.mapped.map((field) => [field.path, field.variable]));
const literals = (result: Ok) => result.unmatched.map((field) => field.path).sort();

/** The draft through the dispatcher's own checks, then rendered against data (the sample by default). */
async function render(result: Ok, data?: Record<string, unknown>) {
  const document = result.draft as unknown as Record<string, unknown>;
  const report = await validateWebhookDocument(document, { accountId: 'acc_demo', webhookId: 'wh_scaffold', engine });
  assert.deepEqual(report.errors, [], 'the draft must pass the webhook validation');
  const parsed = parseWebhookConfig('acc_demo', 'wh_scaffold', document);
  assert.ok(parsed.ok);
  const event = sampleEvent(result.draft.events[0]!);
  if (data) event.data = data;
  const built = await buildRequest(parsed.webhook, event, webhookPlaceholderSecrets(document, engine), engine);
  assert.ok(built.ok, built.ok ? '' : built.error.message);
  return built.request;
}

/** A CSV reader written apart from the scaffold's, RFC 4180. */
function readCsv(text: string): string[][] {
  const rows: string[][] = [];
  for (const line of text.replace(/\r?\n$/, '').match(/(?:"(?:[^"]|"")*"|[^\n])+/g) ?? []) {
    rows.push([...line.matchAll(/(?:^|,)("(?:[^"]|"")*"|[^,]*)/g)].map((match) => (match[1]!.startsWith('"') ? match[1]!.slice(1, -1).replace(/""/g, '"') : match[1]!)));
  }
  return rows;
}

const HOSTILE = 'Ann "A&B" <O\'Neil>, Jr\nline2';
const hostileCall = () => {
  const data = sampleEvent('call.created').data as Record<string, Record<string, unknown>>;
  data.customer = { ...data.customer, name: HOSTILE, email: 'x"&<y>@example.com' };
  return data;
};

describe('scaffold: receivers\' documented examples', () => {
  it('HubSpot contact create (JSON): email, first and last name, phone mapped; company, website, lifecyclestage literal', async () => {
    const result = await scaffold('call.created', fixture('hubspot-contact.json'));
    assert.equal(result.exampleFormat, 'json');
    assert.deepEqual(mappings(result), {
      'body.properties.email': 'data.customer.email',
      'body.properties.firstname': 'data.customer.name',
      'body.properties.lastname': 'data.customer.name',
      'body.properties.phone': 'data.customer.phone',
    });
    assert.deepEqual(literals(result), ['body.properties.company', 'body.properties.lifecyclestage', 'body.properties.website', 'url']);
    const company = result.unmatched.find((field) => field.path === 'body.properties.company')!;
    assert.equal(result.draft.body!.split('\n')[company.line - 1]!.slice(company.column - 1), '"HubSpot",', 'the literal is where unmatched says');
    const request = await render(result);
    assert.deepEqual(JSON.parse(request.body!), {
      properties: { email: 'maria.conceicao@example.com', firstname: 'Maria', lastname: 'Conceição', phone: '+5511987654321', company: 'HubSpot', website: 'hubspot.com', lifecyclestage: 'marketingqualifiedlead' },
    });
    const hostile = JSON.parse((await render(result, hostileCall())).body!);
    assert.equal(hostile.properties.email, 'x"&<y>@example.com', 'JSON strings are escaped');
  });

  it('Salesforce lead, REST (curl): the bearer token becomes a secret; names, email, phone mapped; company, source, status literal', async () => {
    const result = await scaffold('call.created', fixture('salesforce-lead.sh'));
    assert.equal(result.exampleFormat, 'curl');
    assert.equal(result.draft.method, 'POST');
    assert.equal(result.draft.url, 'https://mydomainname.my.salesforce.com/services/data/v62.0/sobjects/Lead/');
    assert.deepEqual(result.draft.headers, { Authorization: 'Bearer {{ secrets.RECEIVER_TOKEN }}' });
    assert.deepEqual(result.secrets, ['RECEIVER_TOKEN']);
    assert.ok(!JSON.stringify(result).includes('00DE0X0A0M0PeLE'), 'the example\'s token is nowhere in the answer');
    assert.deepEqual(mappings(result), { 'body.FirstName': 'data.customer.name', 'body.LastName': 'data.customer.name', 'body.Email': 'data.customer.email', 'body.Phone': 'data.customer.phone' });
    assert.deepEqual(literals(result), ['body.Company', 'body.LeadSource', 'body.Status']);
    const request = await render(result);
    assert.equal(request.headers.Authorization, 'Bearer placeholder-RECEIVER_TOKEN');
    assert.deepEqual(JSON.parse(request.body!), { FirstName: 'Maria', LastName: 'Conceição', Company: 'Acme', Email: 'maria.conceicao@example.com', Phone: '+5511987654321', LeadSource: 'Web', Status: 'Open - Not Contacted' });
  });

  it('Salesforce SOAP create (envelope): element text mapped, the envelope, namespaces, session and CDATA kept', async () => {
    const example = fixture('salesforce-soap-create-lead.xml');
    const result = await scaffold('call.created', example);
    assert.equal(result.exampleFormat, 'xml');
    assert.equal(result.draft.format, 'xml');
    const leaf = 'body.Envelope.Body.create.sObjects';
    assert.deepEqual(mappings(result), { [`${leaf}.FirstName`]: 'data.customer.name', [`${leaf}.LastName`]: 'data.customer.name', [`${leaf}.Email`]: 'data.customer.email', [`${leaf}.MobilePhone`]: 'data.customer.phone' });
    assert.deepEqual(literals(result), [`${leaf}.Company`, `${leaf}.Description`, 'body.Envelope.Header.SessionHeader.sessionId', 'url']);
    // Everything but the mapped values is the example, byte for byte.
    const skeleton = (text: string) => text.replace(/<(FirstName|LastName|Email|MobilePhone)>[^<]*</g, '<$1><');
    assert.equal(skeleton(result.draft.body!), skeleton(example.trim()));
    const request = await render(result);
    assert.equal(XMLValidator.validate(request.body!), true);
    const xml = new XMLParser({ removeNSPrefix: true, parseTagValue: false }).parse(request.body!);
    const lead = xml.Envelope.Body.create.sObjects;
    assert.deepEqual({ first: lead.FirstName, last: lead.LastName, email: lead.Email, phone: lead.MobilePhone, company: lead.Company }, { first: 'Maria', last: 'Conceição', email: 'maria.conceicao@example.com', phone: '+5511987654321', company: 'Acme' });
    const hostile = await render(result, hostileCall());
    assert.equal(XMLValidator.validate(hostile.body!), true, 'XML text is escaped');
    assert.equal(new XMLParser({ removeNSPrefix: true, processEntities: true }).parse(hostile.body!).Envelope.Body.create.sObjects.Email, 'x"&<y>@example.com');
  });

  it('Slack chat.postMessage (curl): token to a secret, its own Content-Type kept; channel, text and attachment fields stay literal (no variable fits them)', async () => {
    const result = await scaffold('call.created', fixture('slack-chat-post-message.sh'));
    assert.equal(result.draft.url, 'https://slack.com/api/chat.postMessage');
    assert.deepEqual(result.draft.headers, { Authorization: 'Bearer {{ secrets.RECEIVER_TOKEN }}' });
    assert.deepEqual(mappings(result), {}, 'channel is a Slack channel id, not the call channel; callback_id is not the call id');
    assert.ok(literals(result).includes('body.channel') && literals(result).includes('body.attachments[0].callback_id'));
    const request = await render(result);
    assert.equal(JSON.parse(request.body!).channel, 'C123ABC456');
  });

  it('Slack incoming webhook (JSON): block types and texts stay literal, never the event type', async () => {
    const result = await scaffold('call.created', fixture('slack-incoming-webhook.json'));
    assert.deepEqual(mappings(result), {});
    assert.equal(result.unmatched.length, 12, 'the URL and the 11 values of the example');
    const request = await render(result);
    assert.deepEqual(JSON.parse(request.body!), JSON.parse(fixture('slack-incoming-webhook.json')));
  });

  it('Airtable create records (curl): name, email, call id, typed duration, start time and the tag array mapped; a boolean and notes literal', async () => {
    const result = await scaffold('call.created', fixture('airtable-create-records.sh'));
    const fields = 'body.records[0].fields';
    assert.deepEqual(mappings(result), {
      [`${fields}.Name`]: 'data.customer.name',
      [`${fields}.Email`]: 'data.customer.email',
      [`${fields}.Call ID`]: 'data.call.id',
      [`${fields}.Duration`]: 'data.call.durationSeconds',
      [`${fields}.Started At`]: 'data.call.startedAt',
      [`${fields}.Tags`]: 'data.tags',
    });
    assert.deepEqual(literals(result), [`${fields}.Notes`, `${fields}.Visited`]);
    const request = await render(result);
    assert.deepEqual(JSON.parse(request.body!).records[0].fields, {
      Name: 'Maria da Conceição', Email: 'maria.conceicao@example.com', 'Call ID': 'call_8GkT2pXq', Duration: 805, 'Started At': '2025-03-14T15:02:11.000Z', Tags: ['venta', 'hogar-plus'], Visited: true, Notes: 'Call back on Monday',
    });
  });

  it('Salesforce Web-to-Lead (form): values form-encoded, literals kept encoded as written', async () => {
    const result = await scaffold('call.created', fixture('salesforce-web-to-lead.form'));
    assert.equal(result.draft.format, 'form');
    assert.deepEqual(mappings(result), { 'body.first_name': 'data.customer.name', 'body.last_name': 'data.customer.name', 'body.email': 'data.customer.email', 'body.phone': 'data.customer.phone' });
    assert.deepEqual(literals(result), ['body.company', 'body.lead_source', 'body.oid', 'body.retURL', 'url']);
    const form = new URLSearchParams((await render(result, hostileCall())).body!);
    assert.equal(form.get('first_name'), 'Ann');
    assert.equal(form.get('email'), 'x"&<y>@example.com');
    assert.equal(form.get('company'), 'Acme & Co');
    assert.equal(form.get('retURL'), 'https://www.example.com/thanks');
  });

  it('CSV: the header kept, each column of the row mapped by its name (caller → customer, agent → agent), fields quoted as needed', async () => {
    const result = await scaffold('call.created', fixture('calls.csv'));
    assert.equal(result.draft.format, 'csv');
    assert.deepEqual(mappings(result), {
      'body[0].call_id': 'data.call.id', 'body[0].caller_name': 'data.customer.name', 'body[0].caller_email': 'data.customer.email', 'body[0].agent_email': 'data.agent.email', 'body[0].started_at': 'data.call.startedAt', 'body[0].duration_seconds': 'data.call.durationSeconds',
    });
    assert.deepEqual(literals(result), ['body[0].notes', 'url']);
    const rows = readCsv((await render(result, hostileCall())).body!);
    assert.deepEqual(rows[0], ['call_id', 'caller_name', 'caller_email', 'agent_email', 'started_at', 'duration_seconds', 'notes']);
    assert.deepEqual(rows[1], ['call_8GkT2pXq', HOSTILE, 'x"&<y>@example.com', 'jose.munoz@example.com', '2025-03-14T15:02:11.000Z', '805', 'said "hi"']);
  });

  it('another event type maps to its own variables (user.created: the user, not a customer)', async () => {
    const result = await scaffold('user.created', '{"email": "a@b.example", "full_name": "A B", "role": "admin", "created_at": "2024-01-01T00:00:00Z"}');
    assert.deepEqual(mappings(result), { 'body.email': 'data.user.email', 'body.full_name': 'data.user.name', 'body.role': 'data.user.role', 'body.created_at': 'data.user.createdAt' });
    await render(result);
  });
});

describe('scaffold: reading examples', () => {
  const formats = [
    { name: 'JSON', text: ' {"a": 1}', expected: 'json' },
    { name: 'SOAP', text: '<soap:Envelope/>', expected: 'xml' },
    { name: 'form', text: 'a=1&b=two+words', expected: 'form' },
    { name: 'CSV', text: 'a,b\n1,"x,y"', expected: 'csv' },
    { name: 'text', text: 'hello there', expected: 'text' },
  ] as const;
  for (const { name, text, expected } of formats) it(`detects ${name}`, () => assert.equal(detectFormat(text), expected));
  it('the Content-Type wins over the content', () => assert.equal(detectFormat('a=1', 'application/json'), 'json'));

  const tokens = [
    ['caller_email', ['customer', 'email']], ['callerEmail', ['customer', 'email']], ['FirstName', ['first', 'name']], ['firstname', ['first', 'name']],
    ['SURNAME', ['last']], ['mobile-phone', ['phone', 'phone']], ['E-Mail', ['email', 'email']], ['urn:sessionId', ['session', 'id']], ['startedAt', ['start', 'time']],
  ] as const;
  for (const [name, expected] of tokens) it(`name tokens of ${name}`, () => assert.deepEqual(nameTokens(name), expected));

  it('curl: -X, -H, --data-urlencode, -u, -G and the URL query', () => {
    const parsed = parseCurl(`curl -s -XPUT 'https://api.example.com/v1/x?from=%2B1555&lang=es' -H 'X-A: 1' --data-urlencode "note=a b&c" -u bob:pw`);
    assert.deepEqual(parsed, { ok: true, request: { method: 'PUT', url: 'https://api.example.com/v1/x?from=%2B1555&lang=es', headers: [['X-A', '1']], body: 'note=a%20b%26c', user: 'bob:pw' } });
    const get = parseCurl('curl -G https://api.example.com/s -d q=1');
    assert.ok(get.ok && get.request.method === 'GET' && get.request.url === 'https://api.example.com/s?q=1' && get.request.body === undefined);
  });

  it('curl: query values mapped, basic auth as a secret, Content-Type of the format dropped', async () => {
    const result = await scaffold('call.created', `curl -u crm:hunter2 -H 'Content-Type: application/x-www-form-urlencoded' 'https://crm.example.com/hook?caller_phone=123&source=x' -d 'email=a%40b.example'`);
    assert.deepEqual(result.draft.query, { caller_phone: '{{ data.customer.phone }}', source: '{{ data.metadata.source }}' });
    assert.deepEqual(result.draft.auth, { type: 'basic', username: 'crm', passwordSecretName: 'RECEIVER_PASSWORD' });
    assert.deepEqual(result.draft.headers, {});
    assert.ok(!JSON.stringify(result).includes('hunter2'));
    const request = await render(result);
    assert.equal(request.url, 'https://crm.example.com/hook?caller_phone=%2B5511987654321&source=web-widget');
  });

  const refused = [
    { name: 'empty', example: '  ', message: /is empty/ },
    { name: 'bad JSON', example: '{"a": }', message: /is not valid JSON/ },
    { name: 'bad XML', example: '<a><b></a>', message: /is not well-formed XML/ },
    { name: 'curl reading a file', example: 'curl https://x.example -d @body.json', message: /reads a file/ },
    { name: 'curl unknown option', example: 'curl --proxy http://p https://x.example', message: /--proxy is not one/ },
    { name: 'curl unclosed quote', example: "curl 'https://x.example", message: /not closed/ },
  ];
  for (const { name, example, message } of refused) {
    it(`refuses ${name}, naming the example`, async () => {
      const result = await scaffoldWebhook({ eventType: 'call.created', example });
      assert.equal(result.ok, false);
      assert.ok(!result.ok && result.field === 'example' && message.test(result.message), JSON.stringify(result));
    });
  }

  it('a literal that looks like Liquid stays literal', async () => {
    const result = await scaffold('call.created', '{"note": "{{ not a variable }}"}');
    const request = await render(result);
    assert.deepEqual(JSON.parse(request.body!), { note: '{{ not a variable }}' });
  });
});
