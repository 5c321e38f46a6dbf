import { readFile } from 'node:fs/promises';
import type { SecretStore } from '../core/ports.ts';

/**
 * Secrets for the local stack and tests: a JSON file `{ "<accountId>": { "NAME": "value" } }`, read on
 * each call so that editing it needs no restart. Production reads Secret Manager instead.
 */
export class LocalFileSecretStore implements SecretStore {
  private readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  async secretsFor(accountId: string): Promise<Record<string, string>> {
    let all: unknown;
    try {
      all = JSON.parse(await readFile(this.path, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new Error(`LOCAL_SECRETS_FILE ${this.path} is not readable JSON: ${(error as Error).message}`);
    }
    const mine = (all as Record<string, unknown>)[accountId];
    if (!mine || typeof mine !== 'object') return {};
    return Object.fromEntries(Object.entries(mine).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  }
}

export const noSecrets: SecretStore = { secretsFor: async () => ({}) };
