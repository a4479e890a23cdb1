/**
 * The shape of the call reports (`query`, `delete`, `statistics`): nested dicts of strings,
 * numbers and lists, as the NG protocol carries them. ng/ sends them as they are.
 */
export type ReportValue = string | number | ReportValue[] | { [k: string]: ReportValue };
export type ReportDict = { [k: string]: ReportValue };

/** A dict for keys that may come from the wire (tags, labels): none of them can reach Object.prototype. */
export function emptyDict(): ReportDict {
  return Object.create(null) as ReportDict;
}
