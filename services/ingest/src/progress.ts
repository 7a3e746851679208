/** A one-line progress bar on a terminal's standard error; silent elsewhere. */
export class Progress {
  private lastDraw = 0;
  private readonly started: number;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly totalBytes: number | undefined,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.started = now();
  }

  get enabled(): boolean {
    return this.stream.isTTY === true;
  }

  update(bytes: number, lines: number): void {
    if (!this.enabled) return;
    const now = this.now();
    if (now - this.lastDraw < 200) return;
    this.lastDraw = now;
    const seconds = Math.max((now - this.started) / 1000, 0.001);
    const rate = Math.round(lines / seconds);
    let text = `${lines.toLocaleString('en-GB')} lines, ${rate.toLocaleString('en-GB')}/s`;
    if (this.totalBytes !== undefined && this.totalBytes > 0) {
      const share = Math.min(bytes / this.totalBytes, 1);
      const width = 30;
      const filled = Math.round(share * width);
      const eta = share > 0 ? Math.round(seconds / share - seconds) : 0;
      text = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(share * 100).toFixed(1)}% ${text}, ${eta}s left`;
    }
    this.stream.write(`\r${text}\u001b[K`);
  }

  done(): void {
    if (this.enabled) this.stream.write('\r\u001b[K');
  }
}
