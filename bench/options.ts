/** A benchmark option's number: finite and not negative, or the run stops naming the text. */
export function num(s: string): number {
  const n = Number(s);
  if (!Number.isFinite(n) || n < 0) throw new Error(`not a number: ${s}`);
  return n;
}
