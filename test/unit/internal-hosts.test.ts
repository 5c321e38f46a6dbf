import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalHostname, describeInternalHost, internalHost, internalUrlHost } from '../../functions/src/send/internal-hosts.ts';

// Each hostile spelling with the name a resolver would look up, and a word of the reason it must give.
const refused: Array<{ host: string; as: string; reason: RegExp }> = [
  { host: 'metadata.google.internal', as: 'metadata.google.internal', reason: /metadata server/ },
  { host: 'metadata.google.internal.', as: 'metadata.google.internal', reason: /metadata server/ },
  { host: 'metadata.google.internal..', as: 'metadata.google.internal', reason: /metadata server/ },
  { host: 'METADATA.Google.INTERNAL', as: 'metadata.google.internal', reason: /metadata server/ },
  { host: '%6detadata.google.internal', as: 'metadata.google.internal', reason: /metadata server/ },
  { host: 'metadata%2egoogle%2einternal', as: 'metadata.google.internal', reason: /metadata server/ },
  { host: 'ｍｅｔａｄａｔａ.google.internal', as: 'metadata.google.internal', reason: /metadata server/ }, // full-width letters
  { host: 'metadata\u3002google\u3002internal', as: 'metadata.google.internal', reason: /metadata server/ }, // ideographic full stops
  { host: 'meta\u00addata.google.internal', as: 'metadata.google.internal', reason: /metadata server/ }, // soft hyphen
  { host: ' metadata.google.internal ', as: 'metadata.google.internal', reason: /metadata server/ },
  { host: 'metadata', as: 'metadata', reason: /metadata server/ },
  { host: 'metadata.', as: 'metadata', reason: /metadata server/ },
  { host: 'METADATA', as: 'metadata', reason: /metadata server/ },
  { host: 'metadata.goog', as: 'metadata.goog', reason: /metadata server/ },
  { host: 'metadata.goog.', as: 'metadata.goog', reason: /metadata server/ },
  { host: 'x.metadata.goog', as: 'x.metadata.goog', reason: /metadata server/ },
  { host: 'localhost', as: 'localhost', reason: /loopback name/ },
  { host: 'LOCALHOST.', as: 'localhost', reason: /loopback name/ },
  { host: 'api.localhost', as: 'api.localhost', reason: /loopback name/ },
  { host: 'a.b.localhost.', as: 'a.b.localhost', reason: /loopback name/ },
  { host: 'vm-1.c.my-project.internal', as: 'vm-1.c.my-project.internal', reason: /under \.internal/ },
  { host: 'anything.internal', as: 'anything.internal', reason: /under \.internal/ },
  { host: 'internal', as: 'internal', reason: /under \.internal/ },
  { host: '.internal', as: '.internal', reason: /under \.internal/ },
  { host: 'a..internal', as: 'a..internal', reason: /under \.internal/ },
  { host: 'foo\u200b.internal', as: 'foo.internal', reason: /under \.internal/ }, // zero-width space
  { host: 'printer.local', as: 'printer.local', reason: /multicast DNS/ },
  { host: 'kubernetes.default.svc.cluster.local', as: 'kubernetes.default.svc.cluster.local', reason: /multicast DNS/ },
  { host: 'Printer.LOCAL.', as: 'printer.local', reason: /multicast DNS/ },
  { host: 'localhost.localdomain', as: 'localhost.localdomain', reason: /localdomain/ },
  { host: 'box.localdomain', as: 'box.localdomain', reason: /localdomain/ },
  { host: 'router.home.arpa', as: 'router.home.arpa', reason: /RFC 8375/ },
  { host: 'nas.lan', as: 'nas.lan', reason: /under \.lan/ },
  { host: 'wiki.intranet', as: 'wiki.intranet', reason: /under \.intranet/ },
  { host: 'dc01.corp', as: 'dc01.corp', reason: /under \.corp/ },
  { host: 'nas.home', as: 'nas.home', reason: /under \.home,/ },
  { host: 'vm-1', as: 'vm-1', reason: /single-label name/ },
  { host: 'intranet', as: 'intranet', reason: /under \.intranet|single-label/ },
  { host: 'receiver', as: 'receiver', reason: /single-label name/ },
  { host: 'com', as: 'com', reason: /single-label name/ },
  { host: 'xn--mnchen-3ya', as: 'xn--mnchen-3ya', reason: /single-label name/ },
  { host: 'münchen', as: 'xn--mnchen-3ya', reason: /single-label name/ },
  { host: '.', as: '', reason: /not a host name/ },
];

// Public names (some close to the internal ones) and IP addresses, which the connect-time guard judges.
const passed = [
  'internal.example.com',
  'metadata.google.internal.example.com',
  'metadata.google.com',
  'metadata.googleapis.com',
  'mylocalhost.com',
  'localhost.example.com',
  'localhost.com',
  'localhostx.net',
  'local.example.org',
  'api.local.example.org',
  'example.internalx',
  'home.arpa.example.com',
  'hooks.slack.com',
  'api.airtable.com',
  'example.com.',
  'EXAMPLE.COM',
  'münchen.de',
  'about.goog',
  'metadatagoog.com',
  'x.corporation',
  'lan.example.net',
  '127.0.0.1',
  '169.254.169.254',
  '2130706433', // 127.0.0.1: an address, refused by the connect-time guard
  '0x7f.1',
  '::1',
  '[::1]',
  '[fd00::1]',
];

describe('internalHost: names refused before any DNS query', () => {
  for (const { host, as, reason } of refused) {
    it(`refuses ${JSON.stringify(host)} (looked up as ${as || '(empty)'})`, () => {
      const found = internalHost(host);
      assert.ok(found, `${host} must be refused`);
      assert.equal(found.host, as);
      assert.match(found.reason, reason);
    });
  }
  for (const host of passed) {
    it(`lets ${JSON.stringify(host)} through`, () => assert.equal(internalHost(host), undefined));
  }
});

describe('internalHost: the loopback allowance', () => {
  it('lets localhost and *.localhost through only with allowLoopback, like 127.0.0.1', () => {
    for (const host of ['localhost', 'LOCALHOST.', 'api.localhost']) {
      assert.equal(internalHost(host, { allowLoopback: true }), undefined, host);
      assert.equal(internalHost(host, { allowLoopback: false })?.loopback, true, host);
    }
  });
  it('allows nothing else: the metadata server, .internal, .local and single labels stay refused', () => {
    for (const host of ['metadata.google.internal', 'metadata', 'vm-1.c.p.internal', 'printer.local', 'localhost.localdomain', 'vm-1']) {
      assert.equal(internalHost(host, { allowLoopback: true })?.loopback, false, host);
    }
  });
});

describe('internalUrlHost and the reason shown', () => {
  it('judges the host of a URL as the URL parser reads it', () => {
    assert.equal(internalUrlHost('http://METADATA.google.internal.:80/computeMetadata/v1/')?.host, 'metadata.google.internal');
    assert.equal(internalUrlHost('https://user:pw@%6Cocalhost:8443/x?y#z')?.host, 'localhost');
    assert.equal(internalUrlHost('http://localhost\\@example.com/')?.host, 'localhost'); // a backslash ends the authority
    assert.equal(internalUrlHost('http://example.com@metadata/')?.host, 'metadata'); // userinfo is not the host
    assert.equal(internalUrlHost('https://api.example.com/metadata.google.internal'), undefined);
    assert.equal(internalUrlHost('not a url'), undefined);
  });
  it('says which name and why', () => {
    assert.equal(
      describeInternalHost(internalHost('metadata.google.internal.')!),
      "metadata.google.internal is the name of Google Cloud's metadata server, which hands out the function's credentials",
    );
    assert.match(describeInternalHost(internalHost('localhost')!), /^localhost is a loopback name .*ALLOW_LOOPBACK_DESTINATIONS=true/);
  });
  it('canonicalHostname lower-cases, maps IDNA and drops trailing dots', () => {
    assert.equal(canonicalHostname('ＡＰＩ.Example.COM.'), 'api.example.com');
    assert.equal(canonicalHostname('münchen.de'), 'xn--mnchen-3ya.de');
  });
});
