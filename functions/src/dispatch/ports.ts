export interface InvalidEventLog {
  /** Records an unreadable message once (keyed by message id) for operators. */
  record(messageId: string, reason: string, message: { data: string | null; attributes: Record<string, string> }): Promise<void>;
}
