// What rtpengine 10.5 (Debian 12's rtpengine-daemon 10.5.3.5) knows: the names of its options
// (`rtpengine --help`), NG commands, NG flags and keys of offer/answer, and CLI commands. Names
// only, facts about rtpengine's interface; the compatibility matrix states ngrelay's support
// for each one, so that an operator coming from rtpengine finds every name they use.

/** Every option of `rtpengine --help` but help, version, config-file and config-section. */
export const RTPENGINE_OPTIONS: readonly string[] = [
  'log-facility', 'log-level', 'log-level-core', 'log-level-spandsp', 'log-level-ffmpeg',
  'log-level-transcoding', 'log-level-codec', 'log-level-rtcp', 'log-level-ice', 'log-level-crypto',
  'log-level-srtp', 'log-level-internals', 'log-level-http', 'log-level-control', 'log-level-dtx',
  'log-stderr', 'split-logs', 'max-log-line-length', 'no-log-timestamps', 'log-mark-prefix',
  'log-mark-suffix', 'pidfile', 'foreground', 'thread-stack', 'table', 'no-fallback', 'interface',
  'save-interface-ports', 'subscribe-keyspace', 'listen-tcp', 'listen-udp', 'listen-ng', 'listen-tcp-ng',
  'listen-cli', 'graphite', 'graphite-interval', 'graphite-prefix', 'graphite-timeout', 'tos', 'control-tos',
  'timeout', 'silent-timeout', 'final-timeout', 'offer-timeout', 'port-min', 'port-max', 'redis',
  'redis-write', 'redis-num-threads', 'redis-expires', 'no-redis-required', 'redis-allowed-errors',
  'redis-disable-time', 'redis-cmd-timeout', 'redis-connect-timeout', 'redis-delete-async',
  'redis-delete-async-interval', 'active-switchover', 'b2b-url', 'log-facility-cdr', 'log-facility-rtcp',
  'log-facility-dtmf', 'dtmf-log-dest', 'dtmf-log-ng-tcp', 'dtmf-no-suppress', 'dtmf-digit-delay',
  'log-format', 'xmlrpc-format', 'num-threads', 'media-num-threads', 'delete-delay', 'sip-source',
  'dtls-passive', 'max-sessions', 'max-load', 'max-cpu', 'max-bandwidth', 'homer', 'homer-protocol',
  'homer-id', 'recording-dir', 'recording-method', 'recording-format', 'iptables-chain', 'codecs',
  'scheduling', 'priority', 'idle-scheduling', 'idle-priority', 'log-srtp-keys', 'mysql-host', 'mysql-port',
  'mysql-user', 'mysql-pass', 'mysql-query', 'endpoint-learning', 'jitter-buffer', 'jb-clock-drift',
  'debug-srtp', 'reject-invalid-sdp', 'dtls-rsa-key-size', 'dtls-cert-cipher', 'dtls-mtu', 'dtls-ciphers',
  'dtls-signature', 'listen-http', 'listen-https', 'https-cert', 'https-key', 'http-threads', 'software-id',
  'poller-per-thread', 'dtx-delay', 'max-dtx', 'dtx-buffer', 'dtx-lag', 'dtx-shift', 'dtx-cn-params',
  'amr-dtx', 'silence-detect', 'cn-payload', 'mqtt-host', 'mqtt-port', 'mqtt-id', 'mqtt-keepalive',
  'mqtt-user', 'mqtt-pass', 'mqtt-cafile', 'mqtt-capath', 'mqtt-certfile', 'mqtt-keyfile', 'mqtt-publish-qos',
  'mqtt-publish-topic', 'mqtt-publish-interval', 'mqtt-publish-scope', 'mos', 'socket-cpu-affinity',
  'janus-secret',
];

/** The NG commands of 10.5, as they arrive in the `command` key. */
export const RTPENGINE_NG_COMMANDS: readonly string[] = [
  'ping', 'offer', 'answer', 'delete', 'query', 'list', 'start recording', 'stop recording',
  'start forwarding', 'stop forwarding', 'block DTMF', 'unblock DTMF', 'block media', 'unblock media',
  'silence media', 'unsilence media', 'play media', 'stop media', 'play DTMF', 'statistics', 'publish',
  'subscribe request', 'subscribe answer', 'unsubscribe',
];

/**
 * The `flags` of 10.5's offer and answer (one spelling each; 10.5 folds case, spaces and hyphens
 * the same way), and the prefixes that carry a value (`codec-strip-PCMA`). `fatal`, `fast` and
 * `to-tag` are read by `delete`.
 */
export const RTPENGINE_NG_FLAGS: readonly string[] = [
  'trust-address', 'SIP-source-address', 'asymmetric', 'no-redis-update', 'unidirectional', 'strict-source',
  'media-handover', 'reset', 'all', 'egress', 'SIPREC', 'fragment', 'port-latching', 'no-port-latching',
  'generate-mid', 'strip-extmap', 'record-call', 'debug', 'no-rtcp-attribute', 'full-rtcp-attribute',
  'generate-RTCP', 'trickle-ICE', 'reject-ICE', 'loop-protect', 'original-sendrecv', 'always-transcode',
  'asymmetric-codecs', 'symmetric-codecs', 'reorder-codecs', 'reuse-codecs', 'no-codec-renegotiation',
  'single-codec', 'allow-transcoding', 'inject-DTMF', 'detect-DTMF', 'pad-crypto', 'passthrough',
  'no-passthrough', 'no-jitter-buffer', 'pierce-NAT', 'NAT-wait', 'RTCP-mirror',
  'fatal', 'fast', 'to-tag',
  'from-tags-', 'SDES-', 'OSRTP-', 'codec-strip-', 'codec-offer-', 'codec-except-', 'endpoint-learning-',
  'transcode-', 'codec-transcode-', 'codec-mask-', 'T38-', 'codec-set-', 'codec-accept-', 'codec-consume-',
  'replace-', 'rtcp-mux-',
];

/** The dictionary keys of 10.5's offer and answer (and of the commands that share them), one spelling each. */
export const RTPENGINE_NG_KEYS: readonly string[] = [
  'command', 'call-id', 'from-tag', 'to-tag', 'via-branch', 'label', 'from-label', 'to-label', 'set-label', 'address', 'sdp', 'reverse-ptime',
  'interface', 'flags', 'replace', 'supports', 'from-tags', 'rtcp-mux', 'SDES', 'OSRTP', 'endpoint-learning',
  'direction', 'received-from', 'drop-traffic', 'ICE', 'ICE-lite', 'DTLS', 'DTLS-reverse',
  'transport-protocol', 'media-address', 'record-call', 'address-family', 'metadata', 'DTLS-fingerprint',
  'TOS', 'ptime', 'ptime-reverse', 'xmlrpc-callback', 'codec', 'generate-RTCP', 'media-echo', 'frequency',
  'volume', 'code', 'digit', 'trigger', 'trigger-end', 'trigger-end-time', 'trigger-end-digits', 'DTMF-delay',
  'T38', 'DTMF-security', 'DTMF-security-trigger', 'DTMF-security-trigger-end', 'delay-buffer',
  'repeat-times', 'file', 'blob', 'db-id', 'duration', 'pause', 'delete-delay', 'limit', 'output-destination',
];

/** 10.5's CLI commands, as words (`list sessions` takes a call-id, all, own or foreign). */
export const RTPENGINE_CLI_COMMANDS: readonly string[] = [
  ...['numsessions', 'sessions', 'totals', 'counters', 'maxopenfiles', 'maxsessions', 'maxcpu', 'maxload', 'maxbw',
    'timeout', 'silenttimeout', 'offertimeout', 'finaltimeout', 'loglevels', 'loglevel', 'redisallowederrors',
    'redisdisabletime', 'redisconnecttimeout', 'rediscmdtimeout', 'controltos', 'deletedelay', 'interfaces',
    'jsonstats', 'transcoders'].map((w) => `list ${w}`),
  ...['maxopenfiles', 'maxsessions', 'maxcpu', 'maxload', 'maxbw', 'timeout', 'silenttimeout', 'offertimeout',
    'finaltimeout', 'loglevel', 'redisallowederrors', 'redisdisabletime', 'redisconnecttimeout', 'rediscmdtimeout',
    'controltos', 'deletedelay'].map((w) => `set ${w}`),
  'terminate', 'params start', 'params current', 'params diff', 'params revert', 'ksadd', 'ksrm', 'kslist',
  'active', 'standby', 'debug', 'call',
];
