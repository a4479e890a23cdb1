import type { LocalAddress, LocalInterfaces } from '../media/LocalInterface.js';
import type { MediaLeg, MediaPlane } from '../media/MediaPlane.js';
import type { Media } from './Media.js';
import type { Stream } from './Stream.js';

/**
 * ICE towards a party uses every address of the stream's interface, as rtpengine does: one
 * more socket per address for RTP and RTCP (the same port numbers where they are free), each
 * a host candidate, and media leaves from the address of the pair ICE selects. A stream
 * without ICE keeps its one address.
 */
export async function addIceAddresses(plane: MediaPlane, interfaces: LocalInterfaces, rtp: Stream, rtcp: Stream): Promise<void> {
  if (rtp.alternates.length > 0 || !rtp.leg || !rtcp.leg) return;
  try {
    for (const local of interfaces.othersOf(rtp.local)) {
      const port = await bindPairOn(plane, local, rtp.leg, rtcp.leg, rtp.localPort);
      rtp.alternates.push({ local, port });
      rtcp.alternates.push({ local, port: port + 1 });
    }
  } catch {
    // Half a pair bound, or no pair free on an address: the streams keep their own address only.
    rtp.dropAlternates();
    rtcp.dropAlternates();
  }
}

/** The streams of a media that does not speak ICE (any more) give their other addresses up. */
export function dropIceAddresses(m: Media): void {
  for (const st of m.streams()) st.dropAlternates();
}

/** Binds a port pair on `local` for the two legs: `wanted` when it is free there, else one from the pool. */
async function bindPairOn(plane: MediaPlane, local: LocalAddress, rtp: MediaLeg, rtcp: MediaLeg, wanted: number): Promise<number> {
  const pool = local.pool;
  if (wanted >= pool.min && wanted + 1 <= pool.max && !pool.isUsed(wanted) && !pool.isUsed(wanted + 1)) {
    pool.reserve(wanted);
    pool.reserve(wanted + 1);
    if (await bindBoth(plane, local, rtp, rtcp, wanted)) return wanted;
    pool.release(wanted);
    pool.release(wanted + 1);
  }
  return pool.allocatePair(async (port) => ((await bindBoth(plane, local, rtp, rtcp, port)) ? port : null));
}

/**
 * False when RTP's port cannot be bound (try another); throws, with both ports released, when
 * RTP's was and RTCP's was not (a leg's alternates are dropped together).
 */
async function bindBoth(plane: MediaPlane, local: LocalAddress, rtp: MediaLeg, rtcp: MediaLeg, port: number): Promise<boolean> {
  try {
    await plane.bindAlternate(rtp, local, port);
  } catch {
    return false;
  }
  try {
    await plane.bindAlternate(rtcp, local, port + 1);
  } catch (e) {
    local.pool.release(port);
    local.pool.release(port + 1);
    throw e;
  }
  return true;
}
