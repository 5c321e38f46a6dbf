/** Polls `read` every 100 ms until it gives a value other than undefined; fails naming `what`, with `detail()`, when the time runs out. */
export async function until<T>(what: string, read: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000, detail: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${detail()}`.trimEnd());
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
