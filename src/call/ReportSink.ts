import { emptyDict, type ReportDict, type ReportValue } from './ReportDict.js';

/**
 * Where a report is written, value by value in order: nested dicts and lists of strings and
 * numbers. The NG layer passes a sink for the reply's encoding, so a large report (every
 * stream of a call, in `delete` and `query` replies) can be written out without first being
 * built as objects.
 */
export interface ReportSink {
  /** Opens a dict as the next value. */
  dict(): void;
  /** Opens a list as the next value. */
  list(): void;
  /** Closes the innermost open dict or list. */
  end(): void;
  /** The next key of the open dict; its value comes next. */
  key(k: string): void;
  str(v: string): void;
  num(v: number): void;
  /** What was written: the value itself, or its encoding. */
  done(): ReportValue;
}

/** Builds what is written as objects (JSON replies, readers in the process). */
export class ObjectSink implements ReportSink {
  private readonly open: (ReportDict | ReportValue[])[] = [];
  private pendingKey = '';
  /** The first value written, once it is complete. */
  value: ReportValue | undefined;

  dict(): void {
    const d = emptyDict();
    this.put(d);
    this.open.push(d);
  }

  list(): void {
    const l: ReportValue[] = [];
    this.put(l);
    this.open.push(l);
  }

  end(): void {
    this.open.pop();
  }

  key(k: string): void {
    this.pendingKey = k;
  }

  str(v: string): void {
    this.put(v);
  }

  num(v: number): void {
    this.put(v);
  }

  done(): ReportValue {
    return this.value ?? emptyDict();
  }

  private put(v: ReportValue): void {
    const top = this.open[this.open.length - 1];
    if (top === undefined) this.value ??= v;
    else if (Array.isArray(top)) top.push(v);
    else top[this.pendingKey] = v;
  }
}
