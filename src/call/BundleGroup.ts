import type { BundleTargets, MediaLeg } from '../media/MediaPlane.js';
import type { Media } from './Media.js';

/**
 * A BUNDLE group of one party (RFC 8843): m= lines that reach the relay, and are reached by
 * it, on one port with rtcp-mux. The first member owns the port (its streams); the others
 * share them, and what arrives there is shared out among the members by MID, SSRC and
 * payload type.
 */
export class BundleGroup {
  constructor(readonly members: readonly Media[]) {}

  get owner(): Media {
    return this.members[0]!;
  }

  /** The members' mids in order, as `a=group:BUNDLE` lists them (members without one are left out). */
  get mids(): string[] {
    return this.members.filter((m) => !m.rejected && m.webrtc.mid !== undefined).map((m) => m.webrtc.mid!);
  }

  has(m: Media): boolean {
    return this.members.includes(m);
  }

  /** Points every other member at the owner's streams (ports a member had of its own go back). */
  share(): void {
    const owner = this.owner;
    owner.transportOwner = null;
    for (const m of this.members.slice(1)) {
      if (m.transportOwner !== owner) m.close();
      m.transportOwner = owner;
      m.rtp = owner.rtp;
      m.rtcp = owner.rtcp;
      m.muxed = true;
    }
    owner.muxed = true;
  }

  /** What the owner's port does with a packet of each member: where its peer media's legs are. */
  targets(peerOf: (m: Media) => Media | undefined, rtcpOut: (m: Media) => MediaLeg | null): BundleTargets | null {
    if (this.members.length < 2) return null;
    return {
      midExtension: this.owner.midExtension,
      routes: this.members.map((m) => {
        const peer = m.rejected ? undefined : peerOf(m);
        return {
          mid: m.webrtc.mid ?? '',
          payloadTypes: m.formats.map(Number).filter((pt) => Number.isInteger(pt)),
          rtp: peer?.rtp?.leg ?? null,
          rtcp: peer ? rtcpOut(peer) : null,
        };
      }),
    };
  }
}

/** A party's groups from m= line indices (0-based), the first of each owning the port. */
export function groupsOf(medias: readonly Media[], sections: readonly (readonly number[])[]): BundleGroup[] {
  return sections.map((g) => new BundleGroup(g.map((i) => medias[i]!).filter((m) => m !== undefined))).filter((g) => g.members.length > 0);
}

/** Ends sharing for members no group of the party has any more: they get ports of their own at the next allocation. */
export function unshare(medias: readonly Media[], groups: readonly BundleGroup[]): void {
  for (const m of medias) {
    if (m.transportOwner && !groups.some((g) => g.has(m) && g.owner === m.transportOwner)) {
      m.transportOwner = null;
      m.rtp = null;
      m.rtcp = null;
    }
  }
}
