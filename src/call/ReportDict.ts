/**
 * The shape of the call reports (`query`, `delete`, `statistics`): nested dicts of strings,
 * numbers and lists, as the NG protocol carries them. ng/ sends them as they are.
 */
export type ReportValue = string | number | ReportValue[] | Encoded | { [k: string]: ReportValue };
export type ReportDict = { [k: string]: ReportValue };

/** A value already written in the reply's wire encoding (by a ReportSink of the NG layer): sent as it is. */
export class Encoded {
  constructor(readonly bytes: Buffer) {}
}

/**
 * The prototype of every dict: empty, frozen, itself without a prototype. No key can reach a
 * built-in (`constructor`, `__proto__` ...), as with a null prototype, but V8 keeps such objects
 * in fast mode, where a null-prototype object is a hash table: slower to read, to walk and to build.
 */
const DICT_ROOT: object = Object.freeze(Object.create(null));

/** Whether `v` is a dict (not a list, a string, a number or an encoded value). */
export function isDict(v: ReportValue | undefined): v is ReportDict {
  return typeof v === 'object' && !Array.isArray(v) && !(v instanceof Encoded);
}

/** A dict for keys that may come from the wire (tags, labels): none of them can reach Object.prototype. */
export function emptyDict(): ReportDict {
  return Object.create(DICT_ROOT) as ReportDict;
}
