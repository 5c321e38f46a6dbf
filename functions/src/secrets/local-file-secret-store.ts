import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import type { SecretWriter } from '../api/ports.ts';
import { sameSecret } from './same-secret.ts';
import type { SecretStore } from '../core/ports.ts';

/**
 * Secrets for the local stack and tests: a JSON file `{ "<accountId>": { "NAME": "value" } }`, looked at
 * on each call so that editing it needs no restart: read again when its inode, size or modification
 * time changed (one stat per event instead of an open, a read and a parse; production's Secret Manager
 * store caches for minutes, and the bench's CPU per delivery should not pay for a local file).
 * Production reads Secret Manager instead.
 */
export class LocalFileSecretStore implements SecretStore, SecretWriter {
  private readonly path: string;
  /** Writes of this process, one at a time (read, change, write back). */
  private writing: Promise<void> = Promise.resolve();

  constructor(path: string) {
    this.path = path;
  }

  /** The file as last read, and what identified that version of it. */
  private lastRead: { version: string; all: unknown } | undefined;

  async secretsFor(accountId: string): Promise<Record<string, string>> {
    let all: unknown;
    try {
      const info = await stat(this.path);
      const version = `${info.ino}:${info.size}:${info.mtimeMs}`;
      if (this.lastRead?.version === version) {
        all = this.lastRead.all;
      } else {
        all = JSON.parse(await readFile(this.path, 'utf8'));
        this.lastRead = { version, all };
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new Error(`LOCAL_SECRETS_FILE ${this.path} is not readable JSON: ${(error as Error).message}`);
    }
    const mine = (all as Record<string, unknown>)[accountId];
    if (!mine || typeof mine !== 'object') return {};
    return Object.fromEntries(Object.entries(mine).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  }

  /** Sets one secret of an account; the file is replaced whole (a rename), so readers never see half of it. */
  setSecret(accountId: string, name: string, value: string): Promise<void> {
    return this.change(accountId, (mine) => ({ ...mine, [name]: value }));
  }

  async copySecret(accountId: string, from: string, to: string, unlessValue: string): Promise<'copied' | 'missing' | 'same'> {
    let result: 'copied' | 'missing' | 'same' = 'missing';
    await this.change(accountId, (mine) => {
      const value = mine[from];
      if (typeof value !== 'string') return undefined;
      result = sameSecret(value, unlessValue) ? 'same' : 'copied';
      return result === 'same' ? undefined : { ...mine, [to]: value };
    });
    return result;
  }

  /** Reads the file, changes one account's secrets (undefined: no change) and writes it back, one change at a time. */
  private change(accountId: string, next: (mine: Record<string, string>) => Record<string, string> | undefined): Promise<void> {
    const write = this.writing.then(async () => {
      let all: Record<string, Record<string, string>> = {};
      try {
        all = JSON.parse(await readFile(this.path, 'utf8'));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`LOCAL_SECRETS_FILE ${this.path} is not readable JSON: ${(error as Error).message}`);
      }
      const mine = all[accountId] && typeof all[accountId] === 'object' ? all[accountId] : {};
      const changed = next(mine);
      if (!changed) return;
      all[accountId] = changed;
      const temporary = `${this.path}.${process.pid}.tmp`;
      await writeFile(temporary, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
      await rename(temporary, this.path);
    });
    this.writing = write.catch(() => undefined);
    return write;
  }
}

export const noSecrets: SecretStore = { secretsFor: async () => ({}) };
