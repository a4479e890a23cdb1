import type { InterfaceSpec } from './InterfaceSpec.js';
import type { ListenAddress } from './Endpoint.js';
import type { RedisSpec } from './RedisSpec.js';
import type { CertKeyType, CertSignature } from '../media/transforms/SelfSignedCertificate.js';

export type EndpointLearning = 'off' | 'immediate' | 'delayed' | 'heuristic';

/** The daemon's settings after the config file and the command line are merged and checked. */
export interface Config {
  interfaces: InterfaceSpec[];
  listenNg: ListenAddress;
  listenCli: ListenAddress;
  /** Prometheus `/metrics` over HTTP; undefined = off. */
  listenHttp?: ListenAddress;
  /** NG over TCP; off when absent. */
  listenTcpNg?: ListenAddress;
  portMin: number;
  portMax: number;
  timeout: number;
  silentTimeout: number;
  offerTimeout: number;
  finalTimeout: number;
  deleteDelay: number;
  maxSessions: number;
  /** Converted streams at once (-1 = no limit). */
  maxTranscodedMedia: number;
  /** Silence level for CN in percent of full scale (0 = off), as rtpengine's silence-detect. */
  silenceDetect: number;
  /** Where a JSON report of each DTMF digit goes (UDP), as rtpengine's dtmf-log-dest; off when absent. */
  dtmfLogDest?: ListenAddress;
  foreground: boolean;
  pidfile?: string;
  logLevel: number;
  logStderr: boolean;
  logFormat: 'default' | 'parsable' | 'json';
  logTimestamps: boolean;
  logFacility: string;
  /** `log-level-<subsystem>` given explicitly. */
  subsystemLevels: Map<string, number>;
  redis?: RedisSpec;
  redisWrite?: RedisSpec;
  subscribeKeyspace: number[];
  redisExpires: number;
  redisConnectTimeout: number;
  redisCmdTimeout: number;
  noRedisRequired: boolean;
  activeSwitchover: boolean;
  endpointLearning: EndpointLearning;
  recordingDir?: string;
  recordingMethod: 'pcap' | 'proc';
  recordingFormat: 'raw' | 'eth';
  tos?: number;
  numThreads: number;
  /** Kernel fast path: the number its kernel objects are named after; -1 = userspace only. */
  table: number;
  /** This relay's identity in Redis records (default: hostname + NG port). */
  nodeId: string;
  /** `static`: one DB per relay, subscriptions; `shared`: one keyspace, ownership by claim (docs/scale-out.md). */
  clusterMode: 'static' | 'shared';
  /** Shared mode: the NG address peers forward commands to. */
  advertiseNg: ListenAddress;
  /** Shared mode: ms between heartbeats. */
  heartbeatInterval: number;
  /** Shared mode: seconds a draining node waits for its calls (0 = no limit). */
  drainTimeout: number;
  /** Shared mode: drain this node; a change of it is applied on SIGHUP. */
  drain: boolean;
  redisEngine: 'redis' | 'sentinel' | 'cluster';
  /** Further sentinels or cluster nodes besides `redis`. */
  redisNodes: ListenAddress[];
  redisMasterName: string;
  /** The DTLS certificate made at start-up: key type, RSA bits, signature hash. */
  dtlsCertificate: { keyType: CertKeyType; rsaBits: number; signature: CertSignature };
}
