/**
 * The management API's token signing keys, for Secret Manager (terraform output api_jwt_keys_command):
 *   node_modules/.bin/node functions/dev/api-jwt-keys.ts              a new key document on stdout
 *   gcloud secrets versions access latest --secret S | node_modules/.bin/node functions/dev/api-jwt-keys.ts --rotate
 *                                                                     a new key first, the current one kept
 * Tokens live an hour at most: drop the previous key (rotate again) no sooner than an hour after.
 * An operator's tool, not deployed.
 */
import { rotateKeySet } from '../src/api/customer-tokens.ts';

async function stdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const rotate = process.argv.includes('--rotate');
process.stdout.write(await rotateKeySet(rotate ? await stdin() : undefined));
