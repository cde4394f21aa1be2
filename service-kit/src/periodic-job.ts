import type { Logger } from './logger.js';

export interface PeriodicJobOptions<T> {
  /** Names the job in the log when a run fails. */
  name: string;
  logger: Logger;
  /** One run. A failure is logged (the job carries on at the next interval), never thrown at the timer. */
  run: () => Promise<T>;
  /** Milliseconds between the end of one run and the start of the next. */
  everyMs: number;
  /** Milliseconds from start() to the first run (default: everyMs). */
  firstAfterMs?: number;
  /**
   * Spread of each wait, as a share of it (default 0.1: ±10 %), so the instances of a service started
   * together do not hit the database in step.
   */
  jitter?: number;
  /** The wait after a run, when it depends on the outcome (e.g. 0 after a full batch: more is waiting). */
  nextAfterMs?: (outcome: { result?: T; error?: unknown }) => number;
}

/**
 * Background work on a timer: one run at a time (a run asked for while one is on its way shares it),
 * failures logged with the job's name, timers that never keep the process alive, and a stop() that
 * waits for the run in progress.
 */
export class PeriodicJob<T = unknown> {
  private timer?: NodeJS.Timeout;
  private running?: Promise<T>;
  private started = false;

  constructor(private readonly opts: PeriodicJobOptions<T>) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule(this.opts.firstAfterMs ?? this.opts.everyMs);
  }

  /** Runs now, or joins the run in progress; rejects with the run's error (the timer only logs it). */
  runNow(): Promise<T> {
    this.running ??= this.opts.run().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Moves the next run to now (or right after the one in progress), e.g. after a write. */
  runSoon(): void {
    if (this.started && !this.running) this.schedule(0);
  }

  async stop(): Promise<void> {
    this.started = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private schedule(ms: number) {
    clearTimeout(this.timer);
    const spread = ms * (this.opts.jitter ?? 0.1);
    this.timer = setTimeout(() => void this.tick(), Math.max(0, ms + (Math.random() * 2 - 1) * spread));
    this.timer.unref();
  }

  private async tick() {
    this.timer = undefined;
    let outcome: { result?: T; error?: unknown };
    try {
      outcome = { result: await this.runNow() };
    } catch (error) {
      this.opts.logger.warn({ err: error, job: this.opts.name }, `${this.opts.name} failed; retrying later`);
      outcome = { error };
    }
    if (this.started && !this.timer) this.schedule(this.opts.nextAfterMs?.(outcome) ?? this.opts.everyMs);
  }
}
