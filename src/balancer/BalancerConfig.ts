import type { ListenAddress } from '../config/Endpoint.js';
import type { RedisSpec } from '../config/RedisSpec.js';
import type { MemberSpec } from './MemberSpec.js';

/** One cluster: an NG address for the SIP proxy and the relays behind it. */
export interface ClusterSpec {
  name: string;
  listenNg: ListenAddress;
  members: MemberSpec[];
}

/** The balancer's settings after the config file and the command line are merged and checked. */
export interface BalancerConfig {
  clusters: ClusterSpec[];
  listenCli: ListenAddress;
  /** Prometheus metrics (`GET /metrics`); null: none. */
  listenHttp: ListenAddress | null;
  /** Seconds between NG pings to each member. */
  pingInterval: number;
  /** Missed pings in a row that mark a member offline. */
  failures: number;
  /** Milliseconds a member has to answer one NG request (one retransmission halfway). */
  memberTimeout: number;
  /** Seconds between comparisons of the call map with the members' `list`. */
  syncInterval: number;
  redis?: RedisSpec;
  foreground: boolean;
  pidfile?: string;
  logLevel: number;
  logStderr: boolean;
  /** The file read at start-up, where `save` writes; null with --config-file=none. */
  configFile: string | null;
}
