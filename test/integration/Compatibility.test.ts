import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_COMMANDS, refusalText } from '../../src/cli/commandTable.js';
import { RTPENGINE_CLI_COMMANDS, RTPENGINE_NG_COMMANDS } from '../../src/docs/rtpengine105.js';
import { NG_COMMANDS } from '../../src/ng/Dispatcher.js';
import { OPTIONS } from '../../src/config/options.js';
import { Relay, runDaemon } from '../helpers/Relay.js';
import { audioSdp } from '../helpers/sdp.js';

/** A harmless argument for each command that takes one (values equal to the defaults). */
const ARGS: Record<string, string> = {
  'list sessions': 'all', terminate: 'no-such-call', ksadd: '5', ksrm: '5', debug: 'no-such-call', call: 'no-such-call info',
  'workers kill': '99', 'set maxopenfiles': '1', 'set maxsessions': '-1', 'set maxcpu': '95', 'set maxload': '0.01', 'set maxbw': '1',
  'set timeout': '60', 'set silenttimeout': '3600', 'set offertimeout': '3600', 'set finaltimeout': '0', 'set loglevel': '6',
  'set redisallowederrors': '-1', 'set redisdisabletime': '10', 'set redisconnecttimeout': '1000', 'set rediscmdtimeout': '0',
  'set controltos': '0', 'set deletedelay': '30',
};

// The states the compatibility matrix claims, checked against a running relay.
describe('the compatibility matrix against the relay', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await Relay.start();
  });
  afterAll(async () => {
    await relay?.stop();
  });

  it('every CLI command is refused exactly when the matrix says so, with rtpengine\'s text', async () => {
    const states = new Map(CLI_COMMANDS.map((c) => [c.command, c.state]));
    const wrong: string[] = [];
    for (const command of new Set([...RTPENGINE_CLI_COMMANDS, ...states.keys()])) {
      const arg = ARGS[command];
      const line = arg === undefined ? command : `${command} ${arg}`;
      const answer = await relay.cli(line);
      const refused = answer.startsWith('Unknown or incomplete command::');
      const claimed = states.get(command) ?? 'refused';
      if (refused !== (claimed === 'refused')) wrong.push(`${line}: claimed ${claimed}, answered ${JSON.stringify(answer)}`);
      if (refused && !answer.startsWith(refusalText(command))) wrong.push(`${line}: answered ${JSON.stringify(answer)}`);
    }
    expect(wrong).toEqual([]);
  });

  it('--help shows every option with its default', async () => {
    const { code, output } = await runDaemon(['--help']);
    expect(code).toBe(0);
    const flat = output.replace(/\s+/g, ' ');
    for (const [name, def] of Object.entries(OPTIONS)) {
      expect(flat, name).toContain(`--${name}`);
      if (def.default !== undefined) expect(flat, name).toMatch(new RegExp(`--${name} .*?\\[default: "?${def.default.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"?\\]`));
    }
  });

  it('set maxload, maxcpu and maxbw answer Success and refuse no call', async () => {
    expect(await relay.cli('set maxload 0.01')).toBe('Success setting maxload to 0.01\n');
    expect(await relay.cli('set maxcpu 0.1')).toBe('Success setting maxcpu to 0.1\n');
    expect(await relay.cli('set maxbw 1')).toBe('Success setting maxbw to 1\n');
    const r = await relay.ng.request({ command: 'offer', sdp: audioSdp('127.0.0.2', 45000), 'call-id': 'compat-limits', 'from-tag': 'A' });
    expect(r['result']).toBe('ok');
    await relay.ng.ok({ command: 'delete', 'call-id': 'compat-limits' });
  });

  it('every NG command is refused with Unrecognized command exactly when the matrix says so', async () => {
    const wrong: string[] = [];
    for (const command of new Set([...RTPENGINE_NG_COMMANDS, ...NG_COMMANDS])) {
      const r = await relay.ng.request({ command, 'call-id': 'compat-no-such-call' });
      const refused = r['error-reason'] === 'Unrecognized command';
      if (refused === NG_COMMANDS.includes(command)) wrong.push(`${command}: ${JSON.stringify(r)}`);
    }
    expect(wrong).toEqual([]);
  });
});
