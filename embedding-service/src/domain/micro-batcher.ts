interface Pending<I, O> {
  input: I;
  resolve(output: O): void;
  reject(err: unknown): void;
}

export interface MicroBatcherOptions {
  /** Most inputs handed to one `run` call. */
  maxBatch: number;
  /** How many `run` calls may be in flight at once. */
  concurrency: number;
  /** How long the first input of a batch waits for company while other calls are in flight. */
  lingerMs: number;
}

/**
 * Merges inputs submitted at about the same time into one `run` call, so concurrent requests
 * share one provider round trip. While all slots are busy, new inputs queue and leave together.
 */
export class MicroBatcher<I, O> {
  private readonly queue: Pending<I, O>[] = [];
  private active = 0;
  private timer?: NodeJS.Timeout | NodeJS.Immediate;

  constructor(
    private readonly run: (inputs: I[]) => Promise<O[]>,
    private readonly opts: MicroBatcherOptions,
  ) {}

  /** Inputs waiting for a provider call (the metrics' queue depth). */
  get waiting(): number {
    return this.queue.length;
  }

  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Idle, the first input leaves at the end of this tick (with whatever was submitted in it):
   * lingering would only add its delay to every lone request, and inputs arriving while that call
   * runs queue and leave together anyway. With calls in flight and a slot free, it lingers for company.
   */
  private schedule() {
    if (this.timer || this.active >= this.opts.concurrency || this.queue.length === 0) return;
    const go = () => {
      this.timer = undefined;
      this.flush();
    };
    this.timer = this.active === 0 ? setImmediate(go) : setTimeout(go, this.opts.lingerMs);
  }

  private flush() {
    while (this.active < this.opts.concurrency && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.opts.maxBatch);
      this.active++;
      this.run(batch.map((p) => p.input))
        .then(
          (outputs) => batch.forEach((p, i) => p.resolve(outputs[i]!)),
          (err: unknown) => batch.forEach((p) => p.reject(err)),
        )
        .finally(() => {
          this.active--;
          this.schedule();
        });
    }
  }
}
