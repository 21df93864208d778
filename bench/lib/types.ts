/** The words of the benchmark: a scenario yields rows, each a measure over several runs. */
import type { Service } from './services.js';
import type { Spread } from './stats.js';

export interface BenchOptions {
  /** CI mode: small counts, one or two runs, under two minutes in all; no speed is asserted. */
  quick: boolean;
  /** Runs per figure (3 by default, 5 with --full, fewer with --quick). */
  runs: number;
  log(message: string): void;
  /**
   * True when another step of about `ms` still fits in the scenario's time budget (the
   * default run keeps to ten minutes in all; --full has no budget). The first run of
   * a scenario always happens.
   */
  timeFor(ms: number): boolean;
}

export interface Row {
  scenario: number;
  /** What was measured, e.g. "Docket jobs/s (MariaDB + RabbitMQ)". */
  measure: string;
  unit: string;
  value: Spread;
  /** The target in words, or "reported". */
  target: string;
  /** True met, false missed, null nothing to compare (reported only, or quick mode). */
  pass: boolean | null;
  /** Anything a reader of the table needs: sizes, settings, why a figure is what it is. */
  note?: string;
  /** Extra figures for the JSON only (per-run details). */
  detail?: Record<string, unknown>;
}

export interface Scenario {
  id: number;
  title: string;
  /** Services without which the scenario is skipped (and says so). */
  needs: Service[];
  run(opts: BenchOptions): Promise<Row[]>;
}
