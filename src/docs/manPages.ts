import { BALANCER_OPTIONS } from '../balancer/options.js';
import { CLI_COMMANDS } from '../cli/commandTable.js';
import { CTL_OPTIONS } from '../cli/ctlOptions.js';
import { OPTIONS } from '../config/options.js';
import { IGNORED_OPTIONS } from '../config/rtpengineOptions.js';
import { packageVersion } from '../version.js';
import { DEFAULT_TEXT } from './compatibility.js';

/**
 * ngrelay(8), ngrelay-ctl(8) and ngrelay-balancer(8), written from the tables the parsers use
 * (`OPTIONS`, `IGNORED_OPTIONS`, `BALANCER_OPTIONS`, `CTL_OPTIONS`, the CLI command table), so
 * an option cannot be added without appearing here. Plain man(7) macros, no tbl.
 */

/** Text for roff: backslashes and hyphens escaped, `code` and **bold** in bold. */
function text(s: string): string {
  return s
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/\*\*([^*]+)\*\*/g, '\\fB$1\\fR')
    .replace(/`([^`]+)`/g, '\\fB$1\\fR')
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');
}

const sentence = (s: string): string => (/[.!?]$/.test(s) ? s : `${s}.`);

function header(name: string, what: string): string[] {
  return [
    `.\\" Written by npm run docs from ngrelay's option tables; do not edit.`,
    `.TH ${name.toUpperCase().replace(/-/g, '\\-')} 8 "" "ngrelay ${text(packageVersion())}" "System Manager's Manual"`,
    '.nh',
    '.ad l',
    '.SH NAME',
    `${text(name)} \\- ${text(what)}`,
  ];
}

function option(flags: string, describe: string, dflt?: string): string[] {
  return ['.TP', flags, text(sentence(describe)) + (dflt === undefined ? '' : ` Default: \\fB${text(dflt)}\\fR.`)];
}

function relayOptions(): string[] {
  const out: string[] = [];
  out.push(...option('\\fB\\-\\-config\\-file\\fR=\\fIFILE\\fR', 'Config file, or `none`', '/etc/rtpengine/rtpengine.conf'));
  out.push(...option('\\fB\\-\\-config\\-section\\fR=\\fISECTION\\fR', 'Section of the config file', 'rtpengine'));
  for (const [name, def] of Object.entries(OPTIONS)) {
    const arg = def.kind === 'bool' ? '' : `=\\fI${def.kind === 'int' ? 'INT' : def.kind === 'list' ? 'VALUE' : 'STRING'}\\fR`;
    const flags = (def.alias ? `\\fB\\-${def.alias}\\fR, ` : '') + `\\fB\\-\\-${text(name).replace(/^\\-\\-/, '')}\\fR${arg}`;
    const describe = def.kind === 'list' ? `${def.describe}; repeat it, or separate values with \`;\` in the config file` : def.describe;
    out.push(...option(flags, describe, DEFAULT_TEXT.get(name) ?? def.default));
  }
  out.push(...option('\\fB\\-v\\fR, \\fB\\-\\-version\\fR', 'Print the version and exit'));
  out.push(...option('\\fB\\-h\\fR, \\fB\\-\\-help\\fR', 'Print the options with their defaults and exit'));
  return out;
}

export function ngrelayMan(): string {
  return [
    ...header('ngrelay', "rtpengine-compatible RTP media relay"),
    '.SH SYNOPSIS',
    '.B ngrelay',
    '[\\fIOPTION\\fR]...',
    '.SH DESCRIPTION',
    text('ngrelay relays RTP and RTCP between the parties of calls that a SIP proxy (Kamailio, OpenSIPS) sets up with the NG protocol of rtpengine 10.5 over UDP (`listen-ng`). It rewrites the SDP so that media flows through it, terminates SRTP, DTLS and ICE where asked, relays confirmed plain streams in the kernel (a tc eBPF program) when it runs with the privileges for it, persists calls to Redis and keeps standby copies of its peers\' calls.'),
    '.PP',
    text('It reads rtpengine\'s config file and command line: options are the same, the command line wins over the file, and rtpengine options it does not implement are accepted and named in one start-up warning. The process never forks; it logs to stdout and stderr, with journal priorities under systemd.'),
    '.SH OPTIONS',
    ...relayOptions(),
    '.SH RTPENGINE OPTIONS ACCEPTED AND IGNORED',
    text(`${[...IGNORED_OPTIONS.keys()].map((n) => `--${n}`).join(', ')}.`),
    '.PP',
    text('Each is accepted in the config file and on the command line, has no effect, and is named in the warning `rtpengine options accepted but not implemented by ngrelay, ignored: ...`. The compatibility matrix (docs/compatibility.md) says what each one would need.'),
    '.SH SIGNALS',
    '.TP', '.B SIGTERM\\fR, \\fBSIGINT',
    text('Close the listeners and media sockets, remove the pidfile, exit 0. Own calls stay in Redis.'),
    '.TP', '.B SIGHUP',
    text('Read the config file again and apply timeouts, `delete-delay`, `max-sessions`, `max-transcoded-media`, log levels and `drain`; other changes need a restart.'),
    '.TP', '.B SIGUSR1\\fR, \\fBSIGUSR2',
    text('Lower or raise the log level by one step.'),
    '.SH ENVIRONMENT',
    '.TP', '.B RTPENGINE_REDIS_AUTH_PW',
    text('Password for `redis` (never logged).'),
    '.TP', '.B RTPENGINE_REDIS_WRITE_AUTH_PW',
    text('Password for `redis-write`.'),
    '.SH EXIT STATUS',
    text('0 after SIGTERM, `--help` or `--version`; 1 for an invalid configuration or a listener that cannot be opened (the message is on stderr); 70 after an internal error that escaped every call (systemd restarts the relay, which restores its calls from Redis).'),
    '.SH FILES',
    '.TP', '.I /etc/rtpengine/rtpengine.conf',
    text('The default config file (rtpengine\'s; give ngrelay its own with `--config-file` to run both side by side).'),
    '.SH SECURITY',
    text('The NG port, the CLI (`listen-cli`) and `/metrics` (`listen-http`) have no authentication: bind them to loopback or a management network. The kernel fast path needs root, or `CAP_BPF` and `CAP_NET_ADMIN`; without them media is relayed in userspace.'),
    '.SH SEE ALSO',
    '.BR ngrelay\\-ctl (8),',
    '.BR ngrelay\\-balancer (8),',
    '.BR rtpengine (8)',
    '',
  ].join('\n');
}

export function ctlMan(): string {
  const shown = CLI_COMMANDS.filter((c) => c.state !== 'refused');
  return [
    ...header('ngrelay-ctl', "control client for ngrelay and ngrelay-balancer"),
    '.SH SYNOPSIS',
    '.B ngrelay\\-ctl',
    ...CTL_OPTIONS.map((o) => `[\\fB${text(o.name)}\\fR${o.arg ? ` \\fI${text(o.arg)}\\fR` : ''}]`),
    '\\fICOMMAND\\fR...',
    '.SH DESCRIPTION',
    text('ngrelay-ctl sends one command line to the CLI of ngrelay (`listen-cli`) and prints the answer. It takes rtpengine-ctl\'s arguments, and rtpengine-ctl works with ngrelay as well. Without `-ip` or `-port` it reads `listen-cli` from /etc/rtpengine/rtpengine.conf, else uses 127.0.0.1:9900; on a host where rtpengine\'s file says 2224, name the port.'),
    '.SH OPTIONS',
    ...CTL_OPTIONS.flatMap((o) => option(`\\fB${text(o.name)}\\fR${o.arg ? ` \\fI${text(o.arg)}\\fR` : ''}`, o.describe)),
    '.SH COMMANDS',
    text('The answers are rtpengine 10.5\'s texts. `get` is the same as `list`. A command that is not listed is answered with `Unknown or incomplete command::` and the words it did not understand.'),
    ...shown.flatMap((c) => ['.TP', `.B ${text(c.command)}`, text(sentence([c.own ? 'ngrelay\'s own' : '', c.note ?? (c.state === 'accepted' ? 'Answered with rtpengine\'s text; no effect' : 'As in rtpengine 10.5')].filter((x) => x !== '').join('; ')))]),
    '.SH BALANCER COMMANDS',
    text('With `--balancer`, rtp_cluster\'s admin commands; each answer ends with `OK` or an error line.'),
    '.TP', '.B ls \\fR[\\fICLUSTER\\fR]',
    text('The clusters, or one cluster with its members.'),
    '.TP', '.B totals',
    text('Calls and capacity per cluster.'),
    '.TP', '.B modify \\fICLUSTER\\fB add \\fIname=..,address=IP:PORT,capacity=..,weight=..\\fR[\\fI,label=..\\fR]',
    text('Add a member.'),
    '.TP', '.B modify \\fICLUSTER\\fB delete \\fIMEMBER\\fR [\\fBforce\\fR]',
    text('Take a member out once its calls have ended (at once with `force`).'),
    '.TP', '.B modify \\fICLUSTER\\fB suspend\\fR|\\fBresume \\fIMEMBER',
    text('Stop or resume placing new calls on a member.'),
    '.TP', '.B save',
    text('Write the clusters back to the config file.'),
    '.SH EXIT STATUS',
    text('0 when the answer was read; 1 when the CLI could not be reached (the message names the address and where it came from).'),
    '.SH SEE ALSO',
    '.BR ngrelay (8),',
    '.BR ngrelay\\-balancer (8),',
    '.BR rtpengine\\-ctl (1)',
    '',
  ].join('\n');
}

export function balancerMan(): string {
  return [
    ...header('ngrelay-balancer', "one NG address in front of several rtpengine-compatible relays"),
    '.SH SYNOPSIS',
    '.B ngrelay\\-balancer',
    '[\\fIOPTION\\fR]...',
    '.SH DESCRIPTION',
    text('ngrelay-balancer receives NG requests on one address per cluster and forwards each call to one member (ngrelay or rtpengine), by weight and capacity, keeping every request of a call on the member that took its offer. It pings the members, stops placing calls on one that stops answering, and can drain a member for maintenance.'),
    '.SH OPTIONS',
    ...BALANCER_OPTIONS.flatMap((o) => {
      const arg = o.kind === 'bool' ? '' : `=\\fI${o.kind === 'int' ? 'INT' : 'VALUE'}\\fR`;
      const flags = (o.alias ? `\\fB\\-${o.alias}\\fR, ` : '') + `\\fB\\-\\-${text(o.name)}\\fR${arg}`;
      return option(flags, o.global ? `${o.describe}. Also \`${o.name}\` in [balancer]` : o.describe, o.default);
    }),
    ...option('\\fB\\-\\-help\\fR', 'Print the options with their defaults and exit'),
    '.SH CONFIGURATION FILE',
    text('A key file like rtpengine.conf. Section [balancer] takes the options marked above. Each cluster is a section [cluster NAME] with `listen-ng = IP:PORT` and one `member-NAME = address=IP:PORT,weight=N,capacity=N[,label=TEXT]` line per member. Options on the command line win over the file; `--listen-ng` and `--member` define or replace the cluster named by `--cluster-name`.'),
    '.SH SIGNALS',
    text('SIGTERM stops it; SIGUSR1 and SIGUSR2 lower and raise the log level.'),
    '.SH FILES',
    '.TP', '.I /etc/ngrelay/ngrelay\\-balancer.conf',
    text('The default config file.'),
    '.SH SECURITY',
    text('The NG addresses and the admin CLI have no authentication: keep them on loopback or a management network.'),
    '.SH SEE ALSO',
    '.BR ngrelay (8),',
    '.BR ngrelay\\-ctl (8)',
    '',
  ].join('\n');
}
