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
   */
  secretsFor(accountId: string, named?: readonly string[]): Promise<Record<string, string>>;
}
