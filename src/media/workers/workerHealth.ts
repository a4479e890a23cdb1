/** Why media workers were replaced, and what they reported, since the relay started (metrics). */
export const workerHealth = {
  restarts: {
    /** The thread ended (an uncaught exception, `workers kill`). */
    died: 0,
    /** Its event loop stopped turning for a whole deadline: terminated. */
    hung: 0,
    /** An unhandled rejection left its state in doubt: terminated. */
    untrusted: 0,
  },
  unhandledRejections: 0,
};

export type RestartCause = keyof typeof workerHealth.restarts;
