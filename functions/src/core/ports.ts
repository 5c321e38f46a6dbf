/** The outside world every room may need: time and the account's secrets. */

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface SecretStore {
  /** The account's secrets by name; only ever this account's. */
  secretsFor(accountId: string): Promise<Record<string, string>>;
}
