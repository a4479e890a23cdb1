import type { Call } from '../call/Call.js';

const pad = (s: string | number, n: number): string => String(s).padStart(n);
const padEnd = (s: string | number, n: number): string => String(s).padEnd(n);

/** One line of `list sessions all|own|foreign`, in rtpengine 10.5's format. */
export function sessionLine(c: Call, withOwner = false): string {
  return (
    `callid: ${pad(c.callId, 60)} | deletionmark:${pad(c.deleted ? 'yes' : 'no', 4)} | created:${pad(Math.floor(c.created / 1000), 12)}` +
    ` | proxy:${c.createdFrom} | redis_keyspace:${Math.max(c.redisDb, 0)} | foreign:${c.foreign ? 'yes' : 'no'}` +
    // Shared mode (a node holds only its own calls): which node owns it, with the generation.
    (withOwner ? ` | owner:${c.ownerId} | generation:${c.generation}` : '') +
    '\n'
  );
}

/** `list sessions <call-id>`: the call, its parties, media and ports with counters. */
export function sessionDetail(c: Call): string {
  const now = Date.now();
  let out = '\n';
  out += `callid: ${c.callId}\ndeletionmark: ${c.deleted ? 'yes' : 'no'}\ncreated: ${Math.floor(c.created / 1000)}\n`;
  out += `proxy: ${c.createdFrom}\ntos: ${c.tos}\nlast_signal: ${Math.floor(c.lastSignal / 1000)}\n`;
  out += `redis_keyspace: ${Math.max(c.redisDb, 0)}\nforeign: ${c.foreign ? 'yes' : 'no'}\n\n`;
  const parties = c.parties();
  parties.forEach((ml) => {
    const offerer = c.offerer ?? parties[0];
    // A subscriber is neither side of a dialogue.
    const type = ml === offerer ? 'FROM_TAG' : ml.tag && ml.subscriptions.length === 0 ? 'TO_TAG' : 'UNKNOWN';
    out += `--- Tag '${ml.tag}', type: ${type}, label '${ml.label ?? ''}', branch '${ml.viaBranch ?? ''}', callduration ${((now - ml.created) / 1000).toFixed(6)}\n`;
    const peer = ml.peer ? [ml.peer] : [];
    for (const x of [...peer, ...ml.subscriptions]) out += `---     subscribed to '${x.tag}'\n`;
    for (const x of [...peer, ...ml.subscribers]) out += `---     subscription of '${x.tag}'\n`;
    for (const m of ml.medias) {
      out += `------ Media #${m.index} (${m.type} over ${m.protocol}) using ${m.reportedCodec ?? 'unknown codec'}\n`;
      for (const st of m.streams()) {
        const leg = st.leg;
        const remote = leg && leg.remotePort ? leg.remoteAddress : '';
        out +=
          `-------- Port ${pad(st.local.address, 15)}:${padEnd(st.localPort, 5)} <> ${pad(remote, 15)}:${padEnd(leg?.remotePort ?? 0, 5)}` +
          `${st.isRtcp ? ' (RTCP)' : ''}, SSRC ${(leg?.ssrc ?? 0).toString(16)}, ${leg?.packets ?? 0} p, ${leg?.bytes ?? 0} b, ${leg?.errors ?? 0} e, ` +
          `${Math.floor((leg?.lastPacket ?? 0) / 1000)} ts${leg?.offloaded ? ', kernel' : ''}\n`;
      }
    }
  });
  return out + '\n';
}
