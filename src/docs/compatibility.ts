import { OPTIONS } from '../config/options.js';
import { IGNORED_OPTIONS } from '../config/rtpengineOptions.js';
import { CLI_COMMANDS, refusalText } from '../cli/commandTable.js';
import { NG_COMMANDS } from '../ng/Dispatcher.js';
import { NgErrorText } from '../ng/errors.js';
import { normalise } from '../ng/NgRequest.js';
import { ngVocabulary } from '../ng/vocabulary.js';
import { RTPENGINE_CLI_COMMANDS, RTPENGINE_NG_COMMANDS, RTPENGINE_NG_FLAGS, RTPENGINE_NG_KEYS, RTPENGINE_OPTIONS } from './rtpengine105.js';

/**
 * docs/compatibility.md, written from the code's own tables: the option tables the parser uses,
 * the NG dispatch table, the keys and flags the offer/answer parser reads, the CLI command table
 * and the NG error texts, each set against rtpengine 10.5's names. `npm run docs` writes it; a
 * test regenerates it and fails when the file differs, so the page cannot go stale.
 */

type State = 'supported' | 'accepted' | 'refused';

const STATE_TEXT: Record<State, string> = {
  supported: 'supported',
  accepted: 'accepted, ignored',
  refused: 'refused',
};

/** What an operator must know about an option beyond its state; `state` overrides the table's. */
type Notes = ReadonlyMap<string, { note: string; state?: State }>;
const notesOf = (o: { [name: string]: { note: string; state?: State } }): Notes => new Map(Object.entries(o));
const OPTION_NOTES: Notes = notesOf({
  interface: { note: '`any`, a system interface name, `NAME/IP`, `NAME/IFNAME`, `IP!ADVERTISED`; the first interface carries own calls, further names are peers\' addresses for failover' },
  table: { note: 'ngrelay\'s fast path is a tc eBPF program, not rtpengine\'s kernel module: the number only names its filters. It needs root (or `CAP_BPF` and `CAP_NET_ADMIN`); without them the relay logs `kernel fast path unavailable` once and relays in userspace. `-1` turns it off' },
  'dtmf-log-dest': { note: 'rtpengine\'s JSON, one datagram per digit (RFC 4733 events at their first end packet, digits heard in converted audio, digits `play DTMF` plays); streams that carry telephone-event stay out of the kernel fast path while it is set (see transcoding.md)' },
  'num-threads': { note: 'media worker threads; `0` relays media on the control thread' },
  'listen-http': { note: 'serves `GET /metrics` (Prometheus), NG over WebSocket (`ng.rtpengine.com`) and `POST /ng`, `GET /ping`; no CLI, Janus or echo subprotocols' },
  'log-facility': { state: 'accepted', note: 'logs go to stdout/stderr (the journal under systemd), never to syslog' },
  'log-format': { note: 'also takes `json`' },
  tos: { state: 'accepted', note: 'Node cannot set IP_TOS on its UDP sockets; a start-up warning says so' },
  'recording-method': { note: '`proc` (rtpengine\'s spool for its recording daemon) is accepted with a start-up warning, and calls are recorded as pcap files in `recording-dir` (`start forwarding` too)' },
  'redis-cmd-timeout': { note: '`0` means 2000 ms here (rtpengine: no timeout)' },
  'active-switchover': { note: 'on by default here (rtpengine: off)' },
  'no-fallback': { note: 'the relay always falls back to userspace when the fast path cannot run' },
  'max-load': { note: 'no load limit is enforced; `set maxload` answers Success and enforces nothing either' },
  'max-cpu': { note: 'no CPU limit is enforced; `set maxcpu` answers Success and enforces nothing either' },
  'max-bandwidth': { note: 'no bandwidth limit is enforced; `set maxbw` answers Success and enforces nothing either' },
  'listen-tcp-ng': { note: 'bencode requests back to back, framed by their bencode; a connection holding more than 64 kB without a whole request is closed (rtpengine: 1 kB)' },
  'listen-tcp': { note: 'the legacy TCP protocol is not implemented' },
  'listen-udp': { note: 'the legacy UDP protocol is not implemented' },
  'listen-https': { note: 'no HTTPS listener; put `/metrics` behind a TLS proxy if needed' },
  'dtls-passive': { note: 'the DTLS role follows the `DTLS` key of each offer' },
  'dtls-rsa-key-size': { note: '1024 to 16384 bits (rtpengine takes any size its OpenSSL takes)' },
  'dtls-mtu': { note: 'handshake messages are cut into fragments of at most 1,240 bytes whatever it says' },
  'dtls-ciphers': { note: 'the cipher suite is ECDHE-ECDSA or ECDHE-RSA with AES-128-GCM, by the certificate\'s key' },
  'media-num-threads': { note: 'playback runs on the media threads (`num-threads`), beside the streams it plays into' },
});

/** Keys whose meaning here needs a word; `state` overrides what the parser's reading implies. */
const KEY_NOTES: Notes = notesOf({
  'transport-protocol': { note: 'RTP/AVP, RTP/AVPF, RTP/SAVP, RTP/SAVPF, UDP/TLS/RTP/SAVP, UDP/TLS/RTP/SAVPF (any case) or `accept`; `UDPTL` is refused with `Unsupported transport protocol \'P\'`; a name rtpengine 10.5 does not know (`transparent` ...) is ignored, as there' },
  direction: { note: 'an interface name that is not configured is refused with `Unknown logical interface \'NAME\'`' },
  'media-echo': { note: '`forward`, `backwards`, `both`, `blackhole` (and 10.5\'s short forms), as [protocol.md](protocol.md#offer-and-answer-keys) describes' },
  ptime: { note: 'repacketises where the two sides\' packet sizes then differ ([transcoding.md](transcoding.md))' },
  'ptime-reverse': { note: 'as `ptime`' },
  'reverse-ptime': { note: 'spelling of `ptime-reverse`' },
  'from-label': { note: 'spelling of `label`' },
  codec: { note: '`strip`, `offer`, `except` (offer and answer), `transcode`, `mask`, `set`, `accept`, `consume` (offer only), with 10.5\'s semantics ([transcoding.md](transcoding.md)); a codec the relay has no transcoder for is left out as rtpengine leaves out one it was not built with; `set` changes no SDP line' },
  sdes: { note: '`off`, `no-SUITE`, `only-SUITE`, `static`, `pad`, `lifetime`; `unencrypted_srtp` and the other session-parameter options are ignored' },
  osrtp: { note: '`offer`, `accept` (RFC 8643, [webrtc.md](webrtc.md#osrtp))' },
  'dtls-fingerprint': { note: '`sha-256` (default), `sha-1`, `sha-224`, `sha-384`, `sha-512`' },
  dtls: { note: '`off` (or `no`, `disable`), `passive`, `active`' },
  ice: { note: '`remove`, `force`, `force-relay` (as `force`: there are no relay candidates), `default`, `optional` (offered as `force`; with ICE on both sides ICE passes through: the parties\' own ICE lines, the relay\'s candidates below them); others are ignored. ngrelay is a full ICE agent ([webrtc.md](webrtc.md#ice))' },
  'media-address': { note: 'the address the relay writes in its SDP (`c=`, full `a=rtcp`, candidates) in place of its own, as 10.5 does; the sender\'s endpoint stays its SDP\'s' },
  'ice-lite': { note: '`forward`, `backward`, `both`, `off` (and rtpengine\'s other spellings)' },
  'record-call': { note: '`yes` or `on`: pcap files in `recording-dir`' },
  'received-from': { note: 'read with the `SIP-source-address` flag' },
  supports: { note: '`load limit`: a refusal by `max-sessions`, or by `max-transcoded-media` of an offer creating a call, answers `result: load limit`' },
  replace: { note: '`origin`, `session-connection`, `SDP-version`, `session-name`, `username`, `zero-address`' },
  'rtcp-mux': { note: '`offer`, `require`, `demux`, `accept`, `reject`' },
  bundle: { note: 'not in rtpengine 10.5 (later rtpengine\'s key): `accept` answers a bundled offer bundled (one port per group, demultiplexed by MID, SSRC and payload type), `offer` (or `require`) bundles the offer passed on, `reject` breaks groups up; without it BUNDLE is handled as 10.5 does (groups dropped, a port per m= line). See [webrtc.md](webrtc.md#bundle)' },
  file: { note: 'WAV (PCM, float, A-law, µ-law; any rate and channel count), see [media.md](media.md); anything else answers `Failed to start media playback from file`' },
  blob: { note: 'as `file`, the WAV bytes in the request' },
  'db-id': { state: 'accepted', note: 'no media database: answers `Failed to start media playback from database`' },
  duration: { note: '`play media`: stops the playback after this many ms; `play DTMF`: the tone length (100-5000 ms, default 250)' },
  'start-pos': { note: 'ms into the file where each round starts' },
});

/** Flags whose meaning here needs a word. */
const FLAG_NOTES: Notes = notesOf({
  'transcode-': { note: 'adds a codec the relay converts to and from ([transcoding.md](transcoding.md)); one it cannot convert (AMR, iLBC, ...) is not added' },
  'codec-transcode-': { note: 'as `transcode-`' },
  'codec-set-': { note: 'encoder options: no SDP line changes' },
  'always-transcode': { note: 'read as `codec-accept-all`' },
  'no-port-latching': { note: 'an ICE offerer that moved its endpoint gets its receiver new ports and ICE credentials' },
  'trickle-ice': { note: 'offers: `a=ice-options:trickle` and `a=end-of-candidates` towards the receiver' },
  fragment: { note: 'with `offer`: the SDP is a trickle ICE fragment, the sender\'s new candidates ([webrtc.md](webrtc.md#ice)); the reply has no SDP' },
  'reorder-codecs': { state: 'accepted', note: 'ignored, as in rtpengine 10.5 (obsolete there)' },
  'sdes-': { note: 'as the `SDES` key' },
  'osrtp-': { note: 'as the `OSRTP` key' },
  'pad-crypto': { note: 'as `SDES-pad`' },
  'replace-': { note: 'as the `replace` key' },
  'rtcp-mux-': { note: 'as the `rtcp-mux` key' },
  'bundle-': { note: 'as the `bundle` key' },
  'generate-mid': { note: '`a=mid:N` (the m= line\'s number) on each section of an offer that has none' },
  'strip-extmap': { note: 'no `a=extmap` lines in the SDP passed on' },
  'record-call': { note: 'pcap files in `recording-dir`' },
  'sip-source-address': { note: 'uses `received-from`' },
  'to-tag': { note: '`delete` deletes only the dialogue with that to-tag' },
  fatal: { note: '`delete` of an unknown call is an error instead of a warning' },
  fast: { note: '`delete` answers without the call\'s statistics' },
});

const ERROR_WHEN: Record<keyof typeof NgErrorText, string> = {
  noPayload: 'a datagram with a cookie and nothing after it',
  badBencode: 'bencode that does not decode to a dictionary (also a JSON value that is not an object)',
  badJson: 'broken JSON',
  badFormat: 'neither bencode nor JSON',
  noCommand: 'no `command` key',
  unknownCommand: 'a command this relay does not implement (table above)',
  noSdp: '`offer`/`answer` without `sdp`',
  noCallId: 'no `call-id`',
  noFromTag: 'no `from-tag`',
  noToTag: '`answer` without `to-tag`',
  unknownCallId: 'a command on a call this relay does not have',
  unknownCallIdCapital: '`block`/`unblock DTMF`, `block`/`unblock`/`silence`/`unsilence media`, `start`/`stop forwarding`, `subscribe request`/`answer`, `unsubscribe` on a call this relay does not have',
  noLabelMatch: 'a media control command or `subscribe request` whose `label` names no party',
  badAddress: 'a media control command or `subscribe request` whose `address` is not an IP address',
  noAddressMatch: 'a media control command or `subscribe request` whose `address` is no party\'s SDP address',
  noSuchFromTag: 'a media control command or `subscribe request` whose `from-tag` names no party',
  sdpParse: 'an SDP body that cannot be parsed',
  incompleteSdp: 'an SDP body without the lines a media section needs',
  dialogue: 'an `answer` whose tags match no offer of the call (rtpengine 10.5 answers some of these)',
  noPorts: 'no free even/odd port pair on the interface; a new call is destroyed',
  notFound: '`delete` with flag `fatal` of a call or tag that does not exist',
  sessionLimit: '`max-sessions` reached (`result: load limit` for a client that announced `supports: [load limit]`)',
  transcodeLimit: 'not in rtpengine 10.5: an `offer`, `answer` or `subscribe answer` that would convert more streams than `max-transcoded-media` allows; nothing about the call changes (an offer that would create the call: `result: load limit` with this `message` for a client that announced `supports: [load limit]`)',
  invalidLimit: '`list` with a negative `limit`',
  noParticipant: '`subscribe request` with `all` on a call with no party of a dialogue',
  noneMatched: '`subscribe request` without a party selector, or whose `from-tags` name no party',
  toTagNotFound: '`subscribe answer` with a `to-tag` the call does not have',
  subscribeRequest: '`subscribe request` whose `to-tag` names a party of a dialogue, or whose parties have no media',
  subscribeAnswer: '`subscribe answer` for a tag that subscribes to nothing, with more media sections than offered, without every offered codec (unless `allow transcoding`), or with a codec the relay cannot convert to',
};

/** Options whose default depends on the machine: the text the docs show instead of this machine's value. */
export const DEFAULT_TEXT: ReadonlyMap<string, string> = new Map([['num-threads', 'one per CPU']]);

const cell = (s: string): string => s.replace(/\|/g, '\\|');
const code = (s: string): string => `\`${s}\``;

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

function optionRows(): string[][] {
  const names = [...new Set([...RTPENGINE_OPTIONS, ...Object.keys(OPTIONS), ...IGNORED_OPTIONS.keys()])].sort();
  return names.map((name) => {
    const def = Object.hasOwn(OPTIONS, name) ? OPTIONS[name] : undefined;
    const ignored = IGNORED_OPTIONS.get(name);
    const extra = OPTION_NOTES.get(name);
    const state: State = def ? (extra?.state ?? 'supported') : ignored ? 'accepted' : 'refused';
    const alias = def?.alias ?? ignored?.alias;
    const dflt = DEFAULT_TEXT.get(name) ?? def?.default;
    const own = RTPENGINE_OPTIONS.includes(name) ? '' : ' (ngrelay)';
    const notes = [state === 'refused' ? '`ngrelay: Unknown argument`' : '', extra?.note ?? ''].filter((x) => x !== '').join('; ');
    return [code(`--${name}`) + own, alias ? code(`-${alias}`) : '', STATE_TEXT[state], dflt === undefined ? '' : code(dflt), [def?.describe ?? '', notes].filter((x) => x !== '').join('. ')];
  });
}

function commandRows(): string[][] {
  const names = [...new Set([...RTPENGINE_NG_COMMANDS, ...NG_COMMANDS])];
  return names.map((c) => {
    const ok = NG_COMMANDS.includes(c);
    const own = RTPENGINE_NG_COMMANDS.includes(c) ? '' : ' (ngrelay)';
    return [code(c) + own, ok ? 'supported' : 'refused', ok ? '' : code(NgErrorText.unknownCommand)];
  });
}

/**
 * Rows for keys or flags: rtpengine's names and the ones the parser reads, by normalised name.
 * A prefix (`endpoint-learning-`) is read when the parser reads it, or reads flags that start with it.
 */
function vocabularyRows(rtpengine: readonly string[], read: Map<string, Set<string>>, notes: typeof KEY_NOTES, prefixes?: Map<string, Set<string>>): string[][] {
  const display = new Map<string, string>();
  for (const n of rtpengine) display.set(normalise(n), n);
  for (const n of [...read.keys(), ...(prefixes?.keys() ?? [])]) if (!display.has(n)) display.set(n, n);
  const isPrefix = (n: string): boolean => n.endsWith('-') && (prefixes?.has(n) || rtpengine.some((r) => normalise(r) === n)) === true;
  const under = (n: string): string[] => [...read.keys()].filter((f) => f.startsWith(n) && f !== n);
  const covered = new Set([...display.keys()].filter(isPrefix).flatMap(under));
  return [...display.entries()]
    .filter(([n]) => !covered.has(n))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([n, shown]) => {
      const values = isPrefix(n) ? under(n) : [];
      const readers = new Set([...(read.get(n) ?? []), ...(prefixes?.get(n) ?? []), ...values.flatMap((f) => [...read.get(f)!])]);
      const extra = notes.get(n);
      const state: State = readers.size > 0 ? (extra?.state ?? 'supported') : 'accepted';
      const own = rtpengine.some((r) => normalise(r) === n) ? '' : ' (ngrelay)';
      const note = [values.length > 0 ? values.map((f) => code(f.slice(n.length))).join(', ') : '', extra?.note ?? ''].filter((x) => x !== '').join('; ');
      return [code(shown.endsWith('-') ? `${shown}…` : shown) + own, STATE_TEXT[state], [...readers].join(', '), note];
    });
}

function cliRows(): string[][] {
  const known = new Map(CLI_COMMANDS.map((c) => [c.command, c]));
  const names = [...new Set([...RTPENGINE_CLI_COMMANDS, ...CLI_COMMANDS.map((c) => c.command)])];
  return names.map((name) => {
    const c = known.get(name);
    const state: State = c?.state ?? 'refused';
    const own = c?.own ? ' (ngrelay)' : '';
    const note = [state === 'refused' ? code(refusalText(name)) : '', c?.note ?? ''].filter((x) => x !== '').join('; ');
    return [code(name) + own, STATE_TEXT[state], note];
  });
}

export function compatibilityMarkdown(): string {
  const v = ngVocabulary();
  const flagRows = vocabularyRows(RTPENGINE_NG_FLAGS, v.flags, FLAG_NOTES, v.prefixes);
  const keyRows = vocabularyRows(RTPENGINE_NG_KEYS, v.keys, KEY_NOTES);
  const errors = (Object.keys(NgErrorText) as (keyof typeof NgErrorText)[]).map((k) => [code(NgErrorText[k]), ERROR_WHEN[k]]);
  return `<!-- Written by \`npm run docs\` from the relay's own tables; edit src/docs/compatibility.ts, not this file. -->
# Compatibility with rtpengine 10.5

Every configuration option, NG command, NG flag and key, and CLI command of rtpengine 10.5
(Debian 12's \`rtpengine-daemon\` 10.5.3.5), with what ngrelay does with it, and ngrelay's own
(marked "(ngrelay)"). The states:

- **supported**: does what rtpengine 10.5 does; a note says where it differs.
- **accepted, ignored**: taken without an error, and without effect. An ignored option, in
  the config file or on the command line, is named in one start-up warning
  (\`rtpengine options accepted but not implemented by ngrelay, ignored: ...\`); an ignored NG
  flag or key is handled as if it were absent (rtpengine logs \`Unknown flag encountered\`;
  ngrelay says nothing); an ignored CLI command answers rtpengine's text and changes nothing.
- **refused**: answered with the error shown.

## Configuration options

Options are read from the command line and from the config file's \`[rtpengine]\` section
(\`--config-file\`, default \`/etc/rtpengine/rtpengine.conf\`; \`--config-section\`); the
command line wins. An unknown key in the config file is skipped with a warning
(\`Unknown key 'KEY' in config file FILE ignored\`); an unknown option on the command line stops
the relay.

${table(['option', 'short', 'state', 'default', 'what it does here'], optionRows())}

## NG commands

${table(['command', 'state', 'error'], commandRows())}

## NG flags (the \`flags\` list)

Flags and keys are matched as rtpengine 10.5 matches them: case, spaces, hyphens and
underscores fold together (\`SIP source address\` = \`sip-source-address\`). "read by" names
the commands that read it; a prefix (\`codec-strip-…\`) takes a value after it.

${table(['flag', 'state', 'read by', 'notes'], flagRows)}

## NG keys

${table(['key', 'state', 'read by', 'notes'], keyRows)}

## NG errors

The texts are rtpengine 10.5's, byte for byte, so that log searches and Kamailio's handling keep
working. ngrelay adds \`Unknown logical interface 'NAME'\`, \`Unsupported transport protocol 'P'\`,
\`Invalid value for key 'KEY'\` (an integer key that is not one) and \`Internal error: ...\` (a
fault of the relay: the call concerned is closed, the relay goes on).

${table(['error-reason', 'when'], errors)}

## CLI commands

\`rtpengine-ctl\` and \`ngrelay-ctl\` send one line to \`listen-cli\`; \`get\` is the same as
\`list\`. Answers are rtpengine 10.5's texts ([cli.md](cli.md)).

${table(['command', 'state', 'notes'], cliRows())}

## Other differences

- **Transcoding** between PCMU, PCMA, G.722, G.729, GSM, speex and opus
  ([transcoding.md](transcoding.md)); the codec flags work as in 10.5, but codecs rtpengine
  transcodes through ffmpeg and this relay does not (AMR, EVS, iLBC, ...) are treated as rtpengine treats a codec it
  was not built with. Digits cross a converted stream as in 10.5: in-band tones become RFC 4733
  events where \`transcode\` added telephone-event (libspandsp's DTMF receiver, as rtpengine's), and
  events become tones towards a party without telephone-event. No comfort noise is generated
  from CN packets.
- **Media control** (\`block DTMF\`, \`block media\`, \`silence media\`, forwarding): as 10.5, on
  what a party sends ([protocol.md](protocol.md#media-control)); in-band DTMF is detected in
  G.711 only, and \`DTMF-security\` modes other than \`drop\` drop RFC 4733 events instead of
  turning them into audio. \`start forwarding\` records the call as pcap (there is no
  recording daemon).
- **Encryption**: SDES-SRTP, DTLS-SRTP and full ICE ([webrtc.md](webrtc.md)). ICE host candidates
  on every address of the media's interface, as rtpengine's; trickle fragments only once the call has ICE, no TURN candidates; SDES session parameters
  (\`UNENCRYPTED_SRTP\` ...) are ignored; the DTLS certificate is always ECDSA P-256.
- **Kernel forwarding** is ngrelay's own tc eBPF fast path for confirmed plain streams
  ([media.md](media.md#kernel-fast-path)), not rtpengine's \`xt_RTPENGINE\` module:
  \`iptables\` rules and \`/proc/rtpengine\` are not used.
- **Recording** writes pcap files itself; there is no recording daemon and no metadata spool.
- **Redis records** are ngrelay's own format ([redis.md](redis.md)): ngrelay and rtpengine
  cannot read each other's calls, so a cluster must not mix them.
- **Metrics** are Prometheus only (\`listen-http\`, \`/metrics\`): rtpengine's names where they
  exist, plus \`ngrelay_*\` ([metrics.md](metrics.md)); no Graphite, Homer or MQTT.
- **\`statistics\`** has \`currentstatistics\`, \`totalstatistics\` and \`controlstatistics\`, not
  rtpengine's interval, MOS, interface and transcoder figures.
- **\`answer\`** whose \`from-tag\` the call does not know, or whose \`to-tag\` equals its
  \`from-tag\`, is refused with \`Invalid dialogue association\`; rtpengine 10.5 answers these.
- **\`codec\`** in \`query\` and \`list sessions\` names the SDP's first codec once RTP has arrived,
  not the payload type seen in the packets.
- **A re-offer or answer that runs out of ports** leaves the call as it was, with
  \`Ran out of ports\`; rtpengine 10.5 ends the call.
- **NG transports**: UDP, TCP (\`listen-tcp-ng\`), WebSocket and \`POST /ng\` (\`listen-http\`);
  large \`query\`/\`delete\` replies over UDP are one datagram, as in rtpengine.
`;
}
