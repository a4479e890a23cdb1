/** What a node announces in its heartbeat, and what `list nodes` shows of it. */
export interface NodeInfo {
  id: string;
  /** NG address other nodes forward commands to, `host:port`. */
  ng: string;
  /** Media addresses its SDP advertises. */
  media: string[];
  /** `max-sessions` (-1 = no limit). */
  capacity: number;
  /** Own calls now. */
  calls: number;
  state: NodeState;
  version: string;
  /** Its clock when it wrote the heartbeat (ms). */
  seen: number;
  /** Its heartbeat interval (ms); it is dead after three missed. */
  interval: number;
}

export type NodeState = 'active' | 'draining';

export const NODE_VERSION = '0.1.0';

/** Missed heartbeats after which a node counts as gone. */
export const MISSED_BEATS = 3;
