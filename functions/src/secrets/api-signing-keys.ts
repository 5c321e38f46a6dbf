import { readFile } from 'node:fs/promises';
import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import type { SigningKeySource } from '../api/customer-tokens.ts';

/** The local stack's token signing keys: a JSON file (API_JWT_KEYS_FILE), read when asked. */
export class FileSigningKeySource implements SigningKeySource {
  private readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  read(): Promise<string> {
    return readFile(this.path, 'utf8');
  }
}

/**
 * Production's token signing keys: the latest version of one Secret Manager secret
 * (API_JWT_KEYS_SECRET). Only the api function's service account may read it.
 */
export class SecretManagerSigningKeySource implements SigningKeySource {
  private readonly name: string;
  private client: Promise<SecretManagerServiceClient> | undefined;

  constructor(projectId: string, secret: string) {
    this.name = `projects/${projectId}/secrets/${secret}/versions/latest`;
  }

  async read(): Promise<string> {
    this.client ??= import('@google-cloud/secret-manager').then(({ SecretManagerServiceClient }) => new SecretManagerServiceClient());
    const [version] = await (await this.client).accessSecretVersion({ name: this.name });
    const data = version.payload?.data;
    if (!data) throw new Error(`the secret ${this.name} is empty`);
    return typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
  }
}
