import { Counter, Gauge, type Registry } from 'prom-client';

/** One series of a metric read from the model: its label values and its value. */
export type Sample<L extends string> = readonly [labels: Partial<Record<L, string>>, value: number];

export interface ScrapedSpec<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
  /** Called at scrape time only; label values must come from a bounded set. */
  read(): Iterable<Sample<L>>;
}

/**
 * A counter whose value already lives in the model (a plain number bumped where the event
 * happens): it is copied in when Prometheus scrapes, so nothing runs per packet or per call.
 */
export function scrapedCounter<L extends string>(registry: Registry, spec: ScrapedSpec<L>): Counter<L> {
  const { read } = spec;
  return new Counter<L>({
    name: spec.name,
    help: spec.help,
    labelNames: spec.labelNames ?? [],
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of read()) this.inc(labels, value);
    },
  });
}

/** A gauge read from the model at scrape time. */
export function scrapedGauge<L extends string>(registry: Registry, spec: ScrapedSpec<L>): Gauge<L> {
  const { read } = spec;
  return new Gauge<L>({
    name: spec.name,
    help: spec.help,
    labelNames: spec.labelNames ?? [],
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of read()) this.set(labels, value);
    },
  });
}
