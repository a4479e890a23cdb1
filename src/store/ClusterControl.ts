/** What the CLI can ask of the Redis clustering layer (absent without `redis`). */
export interface ClusterControl {
  ksadd(db: number): Promise<boolean>;
  /** Unsubscribes and destroys the foreign calls of that keyspace; false if it was not subscribed. */
  ksrm(db: number): Promise<boolean>;
  kslist(): number[];
  /** All calls become own (written to our DB) or foreign. */
  setActive(active: boolean): Promise<void>;
}
