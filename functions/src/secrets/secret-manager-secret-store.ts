import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import type { SecretWriter } from '../api/ports.ts';
import type { SecretStore } from '../core/ports.ts';
import { GrpcStatus } from '../core/failures.ts';
import { sameSecret } from './same-secret.ts';

/** Secret Manager secret ids are `hookshape--<accountId>--<NAME>`; templates read `{{ secrets.NAME }}`. */
export const SECRET_PREFIX = 'hookshape--';
export const secretId = (accountId: string, name: string): string => `${SECRET_PREFIX}${accountId}--${name}`;

/**
 * How long an account's secrets are kept on a warm instance: a new value under a known name that no
 * webhook's signingSecretSetAt announces (one written to Secret Manager by hand) is seen after this.
 */
const CACHE_MS = 5 * 60_000;
/**
 * A secret a webhook names but the cache lacks (just created, or a rotation's new or previous name), or
 * one stored after the cache was read (signingSecretSetAt), is read at once, the account's secrets with
 * it, at most this often: a name that stays missing (a webhook pointing at no secret), or clocks apart,
 * cost one read of the account's secrets per 15 s per instance, not one per event.
 */
const RELOAD_AT_MOST_EVERY_MS = 15_000;

/** The calls of the Secret Manager client this store makes (a test gives its own). */
export type SecretManagerCalls = Pick<SecretManagerServiceClient, 'listSecrets' | 'accessSecretVersion' | 'createSecret' | 'addSecretVersion'>;

/**
 * Production secrets. Each account only ever gets the secrets whose id starts with its own prefix;
 * the runtime service account's accessor role is limited to `hookshape--` secrets by an IAM condition.
 */
export class SecretManagerSecretStore implements SecretStore, SecretWriter {
  private readonly projectId: string;
  private client: Promise<SecretManagerCalls> | undefined;
  private readonly now: () => number;
  private readonly cache = new Map<string, { at: number; value: Promise<Record<string, string>> }>();

  constructor(projectId: string, options: { client?: SecretManagerCalls; now?: () => number } = {}) {
    this.projectId = projectId;
    if (options.client) this.client = Promise.resolve(options.client);
    this.now = options.now ?? Date.now;
  }

  async secretsFor(accountId: string, named: readonly string[] = [], changedAt?: Date): Promise<Record<string, string>> {
    const hit = this.cache.get(accountId);
    if (hit && this.now() - hit.at < CACHE_MS) {
      const secrets = await hit.value;
      // `at` is when the read started: one under way when the secret was stored may hold the old value.
      const upToDate = named.every((name) => Object.hasOwn(secrets, name)) && !(changedAt && hit.at <= changedAt.getTime());
      if (upToDate || this.now() - hit.at < RELOAD_AT_MOST_EVERY_MS) return secrets;
      // Another call may have read them again meanwhile: one read, whoever asks.
      const current = this.cache.get(accountId);
      if (current && current !== hit) return current.value;
    }
    const value = this.load(accountId);
    value.catch(() => this.cache.delete(accountId));
    this.cache.set(accountId, { at: this.now(), value });
    return value;
  }

  private connect(): Promise<SecretManagerCalls> {
    this.client ??= import('@google-cloud/secret-manager').then(({ SecretManagerServiceClient }) => new SecretManagerServiceClient());
    return this.client;
  }

  /**
   * Creates the secret `hookshape--<accountId>--<NAME>` if it does not exist and adds the value as its
   * latest version. Functions that cached the account's secrets see a name they lack as soon as a webhook
   * names it, a new value under a name they hold once a webhook's signingSecretSetAt is later than their
   * read (secretsFor), else within 5 minutes.
   */
  async setSecret(accountId: string, name: string, value: string): Promise<void> {
    const client = await this.connect();
    const parent = `projects/${this.projectId}`;
    const id = secretId(accountId, name);
    try {
      await client.createSecret({ parent, secretId: id, secret: { replication: { automatic: {} }, labels: { 'managed-by': 'hookshape' } } });
    } catch (error) {
      if ((error as { code?: number }).code !== GrpcStatus.ALREADY_EXISTS) throw error; // a new version of it
    }
    await client.addSecretVersion({ parent: `${parent}/secrets/${id}`, payload: { data: Buffer.from(value, 'utf8') } });
    this.cache.delete(accountId);
  }

  async copySecret(accountId: string, from: string, to: string, unlessValue: string): Promise<'copied' | 'missing' | 'same'> {
    const client = await this.connect();
    let value: string;
    try {
      const [version] = await client.accessSecretVersion({ name: `projects/${this.projectId}/secrets/${secretId(accountId, from)}/versions/latest` });
      const data = version.payload?.data;
      if (!data) return 'missing';
      value = Buffer.from(data as Uint8Array).toString('utf8');
    } catch (error) {
      if ((error as { code?: number }).code === GrpcStatus.NOT_FOUND) return 'missing';
      throw error;
    }
    if (sameSecret(value, unlessValue)) return 'same';
    await this.setSecret(accountId, to, value);
    return 'copied';
  }

  private async load(accountId: string): Promise<Record<string, string>> {
    const client = await this.connect();
    const prefix = secretId(accountId, '');
    const [secrets] = await client.listSecrets({ parent: `projects/${this.projectId}`, filter: `name:${prefix}` });
    const result: Record<string, string> = {};
    await Promise.all(
      secrets.map(async (secret) => {
        const id = secret.name?.split('/').pop() ?? '';
        if (!id.startsWith(prefix)) return; // the filter matches substrings: keep only this account's own
        const [version] = await client.accessSecretVersion({ name: `${secret.name}/versions/latest` });
        const data = version.payload?.data;
        if (data) result[id.slice(prefix.length)] = Buffer.from(data as Uint8Array).toString('utf8');
      }),
    );
    return result;
  }
}
