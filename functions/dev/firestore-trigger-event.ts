/**
 * The request Eventarc sends a function for a Firestore `document.written` event (binary mode: the
 * context in ce-* headers, the DocumentEventData as protobuf in the body, which validateWebhook does not
 * decode). The Firestore emulator emits no such events; the local stack and the tests send this one.
 * Dev tooling, not deployed.
 */
import { randomBytes } from 'node:crypto';

export function firestoreWrittenRequest(projectId: string, document: string, options: { subject?: boolean } = {}): { method: 'POST'; headers: Record<string, string>; body: Uint8Array<ArrayBuffer> } {
  const headers: Record<string, string> = {
    'content-type': 'application/protobuf',
    'ce-specversion': '1.0',
    'ce-id': randomBytes(8).toString('hex'),
    'ce-source': `//firestore.googleapis.com/projects/${projectId}/databases/(default)`,
    'ce-type': 'google.cloud.firestore.document.v1.written',
    'ce-time': new Date().toISOString(),
    'ce-dataschema': 'https://github.com/googleapis/google-cloudevents/blob/main/proto/google/events/cloud/firestore/v1/data.proto',
    'ce-database': '(default)',
    'ce-namespace': '(default)',
    'ce-document': document,
    'ce-location': 'nam5',
    'ce-project': projectId,
  };
  if (options.subject !== false) headers['ce-subject'] = `documents/${document}`;
  // Field 1 (value: Document), field 1 of it (name): enough to look like the real payload.
  const name = Buffer.from(`projects/${projectId}/databases/(default)/documents/${document}`);
  const body = new Uint8Array(Buffer.concat([Buffer.from([0x0a, name.length + 2, 0x0a, name.length]), name]));
  return { method: 'POST', headers, body };
}
