/**
 * What each CLI command does here, for the compatibility matrix and the man page: rtpengine
 * 10.5's commands and ngrelay's own. A command answered with rtpengine's text but with no
 * effect is `accepted`; one answered `Unknown or incomplete command::...` is `refused`. The
 * states are checked against a running relay, so this table cannot claim what the CLI does not do.
 */
export type CliState = 'supported' | 'accepted' | 'refused';

export interface CliCommandInfo {
  /** The command's words; `ARG` stands for an argument. */
  command: string;
  state: CliState;
  /** What the operator needs to know beyond the state. */
  note?: string;
  /** ngrelay's own command, not rtpengine's. */
  own?: true;
}

export const CLI_COMMANDS: readonly CliCommandInfo[] = [
  { command: 'list numsessions', state: 'supported', note: 'rtpengine\'s seven lines' },
  { command: 'list sessions', state: 'supported', note: '`all`, `own`, `foreign` or a call-id; in `cluster-mode = shared` each line also names the owner' },
  { command: 'list totals', state: 'supported', note: 'no graphite or MOS sections; the per-second kernel rates are 0' },
  { command: 'list counters', state: 'refused' },
  { command: 'list maxopenfiles', state: 'supported' },
  { command: 'list maxsessions', state: 'supported' },
  { command: 'list maxcpu', state: 'accepted', note: 'shows the value last set with `set maxcpu`; nothing enforces it' },
  { command: 'list maxload', state: 'accepted', note: 'shows the value last set with `set maxload`; nothing enforces it' },
  { command: 'list maxbw', state: 'accepted', note: 'shows the value last set with `set maxbw`; nothing enforces it' },
  { command: 'list timeout', state: 'supported' },
  { command: 'list silenttimeout', state: 'supported' },
  { command: 'list offertimeout', state: 'supported' },
  { command: 'list finaltimeout', state: 'supported' },
  { command: 'list loglevels', state: 'supported' },
  { command: 'list loglevel', state: 'supported' },
  { command: 'list redisallowederrors', state: 'accepted', note: 'always `-1`: ngrelay does not disable Redis after errors, it retries' },
  { command: 'list redisdisabletime', state: 'accepted', note: 'always `10`: there is no such setting here' },
  { command: 'list redisconnecttimeout', state: 'supported' },
  { command: 'list rediscmdtimeout', state: 'supported' },
  { command: 'list controltos', state: 'accepted', note: 'always `0`: NG replies are sent without a TOS value' },
  { command: 'list deletedelay', state: 'supported' },
  { command: 'list interfaces', state: 'supported' },
  { command: 'list jsonstats', state: 'supported', note: 'the NG `statistics` object: no interval, MOS, interface or transcoder figures' },
  { command: 'list transcoders', state: 'refused' },
  { command: 'list nodes', state: 'supported', own: true, note: '`cluster-mode = shared`: the nodes, their state and calls' },
  { command: 'list workers', state: 'supported', own: true, note: 'one line per media worker thread' },
  { command: 'set maxopenfiles', state: 'supported' },
  { command: 'set maxsessions', state: 'supported' },
  { command: 'set maxcpu', state: 'accepted', note: 'answers `Success setting maxcpu to N`, but **no limit is enforced**: new calls are not refused for CPU use' },
  { command: 'set maxload', state: 'accepted', note: 'answers `Success setting maxload to N`, but **no limit is enforced**: new calls are not refused for load' },
  { command: 'set maxbw', state: 'accepted', note: 'answers `Success setting maxbw to N`, but **no limit is enforced**: new calls are not refused for bandwidth' },
  { command: 'set timeout', state: 'supported' },
  { command: 'set silenttimeout', state: 'supported' },
  { command: 'set offertimeout', state: 'supported' },
  { command: 'set finaltimeout', state: 'supported' },
  { command: 'set loglevel', state: 'supported' },
  { command: 'set redisallowederrors', state: 'refused' },
  { command: 'set redisdisabletime', state: 'refused' },
  { command: 'set redisconnecttimeout', state: 'refused', note: 'set `redis-connect-timeout` in the config file and restart' },
  { command: 'set rediscmdtimeout', state: 'refused', note: 'set `redis-cmd-timeout` in the config file and restart' },
  { command: 'set controltos', state: 'refused' },
  { command: 'set deletedelay', state: 'supported' },
  { command: 'terminate', state: 'supported', note: '`all`, `own`, `foreign` or a call-id' },
  { command: 'params start', state: 'supported' },
  { command: 'params current', state: 'supported' },
  { command: 'params diff', state: 'supported' },
  { command: 'params revert', state: 'supported', note: 'reverts timeouts, limits and log levels' },
  { command: 'ksadd', state: 'supported' },
  { command: 'ksrm', state: 'supported' },
  { command: 'kslist', state: 'supported' },
  { command: 'active', state: 'supported' },
  { command: 'standby', state: 'supported' },
  { command: 'debug', state: 'refused', note: 'raise the log level instead (`set loglevel 7`)' },
  { command: 'call', state: 'refused', note: 'use `list sessions CALL-ID` and `terminate CALL-ID`' },
  { command: 'workers kill', state: 'supported', own: true, note: 'stops media worker N as if it had died; it is restarted with its calls' },
  { command: 'drain', state: 'supported', own: true, note: '`cluster-mode = shared`: no new calls here, exit after the last' },
  { command: 'undrain', state: 'supported', own: true, note: '`cluster-mode = shared`: takes new calls again' },
];

/** rtpengine 10.5's answer to a refused command: the words after the ones it understood. */
export function refusalText(command: string): string {
  const words = command.split(' ');
  const rest = ['list', 'get', 'set'].includes(words[0]!) ? words.slice(1) : words;
  return `Unknown or incomplete command::${rest.join(' ')}`;
}
