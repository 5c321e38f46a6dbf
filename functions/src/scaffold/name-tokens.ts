/**
 * Field and variable names as comparable tokens: `caller_email`, `callerEmail`, `Caller-Email` and
 * `CALLEREMAIL` all become [customer, email]. Synonyms fold to one canonical word, so a receiver's
 * vocabulary (mail, tel, surname, caller) meets the catalogue's (email, phone, last, customer).
 */

const SYNONYMS: Record<string, string> = {
  mail: 'email', e: 'email', emailaddress: 'email',
  tel: 'phone', telephone: 'phone', mobile: 'phone', cell: 'phone', cellphone: 'phone', msisdn: 'phone', phonenumber: 'phone',
  given: 'first', forename: 'first', fname: 'first',
  family: 'last', surname: 'last', lname: 'last',
  fullname: 'name', displayname: 'name',
  identifier: 'id', uuid: 'id', guid: 'id', ref: 'id', reference: 'id', key: 'id',
  caller: 'customer', client: 'customer', contact: 'customer', lead: 'customer', visitor: 'customer', person: 'customer', prospect: 'customer',
  user: 'agent', owner: 'agent', rep: 'agent', representative: 'agent', assignee: 'agent', employee: 'agent', operator: 'agent',
  at: 'time', timestamp: 'time', ts: 'time', date: 'time', datetime: 'time', on: 'time', when: 'time',
  start: 'start', begin: 'start', began: 'start',
  end: 'end', finish: 'end', finished: 'end', stop: 'end',
  answer: 'answer', pickup: 'answer',
  duration: 'duration', length: 'duration', secs: 'seconds', sec: 'seconds',
  link: 'url', href: 'url', uri: 'url',
  title: 'title', subject: 'title',
  tag: 'tags', labels: 'tags', label: 'label',
  recording: 'recording', record: 'recording', audio: 'recording',
  score: 'score', rating: 'score',
};

/** Words a run-together name is cut into (`firstname` → first name, `lifecyclestage` stays whole). */
const VOCABULARY = [
  'first', 'last', 'full', 'given', 'family', 'middle', 'display', 'name', 'email', 'mail', 'address', 'phone', 'number',
  'mobile', 'id', 'url', 'caller', 'customer', 'client', 'contact', 'agent', 'user', 'call', 'queue', 'time', 'date', 'start',
  'started', 'end', 'ended', 'created', 'updated', 'at', 'duration', 'seconds', 'channel', 'company', 'account', 'event', 'type',
  'status', 'source', 'campaign', 'recording', 'meeting', 'title', 'segment', 'form', 'comment', 'survey', 'score', 'ticket',
];
const WORDS = new Set(VOCABULARY);

/** `firstname` → [first, name] when the whole word is made of known words; otherwise [word]. */
function splitRunTogether(word: string): string[] {
  if (WORDS.has(word) || word.length < 6) return [word];
  const best: Array<string[] | undefined> = [[]];
  for (let end = 1; end <= word.length; end++) {
    for (let start = 0; start < end; start++) {
      const piece = word.slice(start, end);
      const before = best[start];
      if (before && WORDS.has(piece) && (!best[end] || best[end]!.length > before.length + 1)) best[end] = [...before, piece];
    }
  }
  return best[word.length] ?? [word];
}

/** A light stemmer: `started` → start, `tags` stays (a synonym target), `seconds` stays. */
function stem(word: string): string {
  if (word.length > 5 && word.endsWith('ed')) return word.slice(0, -2);
  return word;
}

/** Tokens of one name (a key, an element, a path segment), namespace prefix and `[]` dropped. */
export function nameTokens(name: string): string[] {
  const local = name.replace(/\[\]$/, '').replace(/^[A-Za-z][\w.-]*:/, '');
  const words = local
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  const tokens: string[] = [];
  for (const word of words) {
    const folded = SYNONYMS[word];
    if (folded) {
      tokens.push(folded);
      continue;
    }
    for (const piece of splitRunTogether(word)) tokens.push(SYNONYMS[piece] ?? SYNONYMS[stem(piece)] ?? stem(piece));
  }
  return tokens;
}
