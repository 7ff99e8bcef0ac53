/**
 * A memo of values derived from a few distinct keys (topic names, host strings) on hot paths: computed once per
 * key, and forgotten all at once when more than `entriesMax` keys were seen, so odd inputs cannot grow it.
 */
export class BoundedMemo<K, V> {
  private readonly values = new Map<K, V>();
  /** The last key asked for and its value: a batch asks for the same topic or host once per record. */
  private lastKey: K | undefined;
  private lastValue: V | undefined;

  constructor(
    private readonly entriesMax: number,
    private readonly compute: (key: K) => V,
  ) {}

  get(key: K): V {
    if (key === this.lastKey && this.lastValue !== undefined) return this.lastValue;
    let v = this.values.get(key);
    if (v === undefined) {
      v = this.compute(key);
      if (this.values.size >= this.entriesMax) this.values.clear();
      this.values.set(key, v);
    }
    this.lastKey = key;
    this.lastValue = v;
    return v;
  }
}
