/**
 * The management API on this machine: for the local stack (`npm start`) and the tests. Dev tooling,
 * not deployed.
 *
 * - Token signing keys: a key document in a file (API_JWT_KEYS_FILE), made here on first use.
 * - HOOKSHAPE_DEV_API_KEY: registered in the emulator's Firestore as an ordinary platform API key for
 *   every account (api-keys.ts), so the deployed code needs no switch for it and has none: nothing in
 *   functions/src reads that variable. A deployed function with it set accepts nothing more.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Firestore } from '@google-cloud/firestore';
import type { ApiKeyRecord } from '../src/api/api-keys.ts';
import { rotateKeySet } from '../src/api/customer-tokens.ts';
import { FirestoreApiKeyStore } from '../src/firestore/firestore-api-keys.ts';
import { silentLogger } from '../src/log/logger.ts';
import { serveBuiltFunction, type BuiltFunction } from './built-function.ts';

/** Where `npm start` serves the API unless HOOKSHAPE_API_PORT says otherwise. */
export const DEFAULT_API_PORT = 8790;

export const apiPort = (env: NodeJS.ProcessEnv = process.env): number => {
  const raw = env.HOOKSHAPE_API_PORT?.trim();
  const port = raw ? Number(raw) : DEFAULT_API_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`HOOKSHAPE_API_PORT must be a port number, got '${raw}'`);
  return port;
};

/** Writes a token signing key document unless the file has one. */
export async function ensureSigningKeys(file: string): Promise<void> {
  if (existsSync(file)) return;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, await rotateKeySet(undefined), { mode: 0o600 });
}

/** Registers the local stack's development key (all accounts) in the emulator; idempotent. */
export async function registerDevApiKey(db: Firestore, key: string): Promise<ApiKeyRecord> {
  const store = new FirestoreApiKeyStore(db, silentLogger);
  return store.register(key, { name: 'development key (HOOKSHAPE_DEV_API_KEY)', accountId: null, createdBy: 'local-stack' });
}

export interface LocalApiOptions {
  /** The environment of the other functions (project, emulators, Cloud Tasks, secrets file...). */
  env: NodeJS.ProcessEnv;
  /** Where the token signing keys are kept (made when missing). */
  signingKeysFile: string;
  port?: number;
  /** The emulator's Firestore, to register HOOKSHAPE_DEV_API_KEY in, when it is set. */
  db?: Firestore;
  devApiKey?: string | undefined;
  onOutput?: (chunk: string) => void;
}

/** Serves the bundle's `api` function; returns it with its URL (`http://127.0.0.1:<port>`). */
export async function startLocalApi(options: LocalApiOptions): Promise<BuiltFunction> {
  await ensureSigningKeys(options.signingKeysFile);
  if (options.devApiKey) {
    if (!options.db) throw new Error('HOOKSHAPE_DEV_API_KEY needs the Firestore emulator to register it in');
    await registerDevApiKey(options.db, options.devApiKey);
  }
  return serveBuiltFunction('api', 'http', { ...options.env, API_JWT_KEYS_FILE: options.signingKeysFile }, { port: options.port ?? apiPort(), ...(options.onOutput ? { onOutput: options.onOutput } : {}) });
}
