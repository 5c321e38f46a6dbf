/**
 * Progress of a long run on stderr: a bar redrawn in place on a terminal, one plain line per step
 * otherwise (logs, CI, pipes), so scripts reading stdout never see it.
 */
export class Progress {
  private readonly total: number;
  private readonly label: string;
  private readonly tty: boolean;
  private done = 0;

  constructor(total: number, label: string, stream: NodeJS.WriteStream = process.stderr) {
    this.total = total;
    this.label = label;
    this.tty = stream.isTTY === true;
  }

  step(line: string): void {
    this.done++;
    if (!this.tty) {
      process.stderr.write(`[${this.done}/${this.total}] ${line}\n`);
      return;
    }
    const width = Math.max(10, Math.min(40, (process.stderr.columns ?? 80) - 40));
    const filled = Math.round((this.done / this.total) * width);
    process.stderr.write(`\r${this.label} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${this.done}/${this.total}\u001b[K`);
    if (this.done === this.total) process.stderr.write('\n');
  }
}
