/** The options of `ngrelay-ctl` (rtpengine-ctl's, plus `--balancer`); its usage line and man page read this table. */
export interface CtlOption {
  name: string;
  /** What the option takes, as the usage line shows it. */
  arg?: string;
  describe: string;
}

export const CTL_OPTIONS: readonly CtlOption[] = [
  { name: '--balancer', describe: "Talk to ngrelay-balancer's admin CLI (default 127.0.0.1:9901, `listen-cli` of the [balancer] section of /etc/ngrelay/ngrelay-balancer.conf) instead of the relay. Must come first" },
  { name: '-ip', arg: 'ADDR[:PORT]', describe: 'Address of the CLI (an IPv6 address in brackets when a port follows)' },
  { name: '-port', arg: 'PORT', describe: 'Port of the CLI' },
  { name: '-config', arg: 'FILE', describe: 'Read `listen-cli` from this file instead of /etc/rtpengine/rtpengine.conf' },
];

export const CTL_USAGE = `Usage: ngrelay-ctl ${CTL_OPTIONS.map((o) => `[${o.name}${o.arg ? ` ${o.arg}` : ''}]`).join(' ')} COMMAND...\n`;
