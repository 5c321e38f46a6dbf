/** The outside world every room may need: time and the account's secrets. */

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface SecretStore {
  /**
   * The account's secrets by name; only ever this account's. `named`: the secrets the caller's webhooks
   * name (signing, previous signing, auth): a store that caches reads again when one of them is missing
   * from what it holds (created, or rotated to a new name, since), at most every so often.
   * `changedAt`: when one of those webhooks last had a secret stored (signingSecretSetAt); a store that
   * read the account's secrets before then reads them again, as often.
   */
  secretsFor(accountId: string, named?: readonly string[], changedAt?: Date): Promise<Record<string, string>>;
}
