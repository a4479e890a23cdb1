import type { MirroredOrigin } from '../sdp/generate.js';
import type { BundleGroup } from './BundleGroup.js';
import type { Media } from './Media.js';
import { newPartyControl, type PartyControl } from './PartyControl.js';

/** One party of a call, found by its SIP tag. */
export class Monologue {
  label?: string;
  viaBranch?: string;
  medias: Media[] = [];
  /** Its m= lines that share a port towards it (BUNDLE). */
  bundles: BundleGroup[] = [];
  /** Block/silence/forwarding set on this party: what it sends. */
  control: PartyControl = newPartyControl();
  /** The party this one exchanges media with (offer/answer). */
  peer: Monologue | null = null;
  /** Parties whose media this one receives a copy of (pub/sub), in the order of its media sections. */
  subscriptions: Monologue[] = [];
  /** Parties that receive a copy of this one's media (pub/sub). */
  subscribers: Monologue[] = [];
  /** What a subscriber's SDP mirrors of this party's own latest SDP (o=, s=, where c= is). */
  ownOrigin?: MirroredOrigin;
  /** Logical interface its sockets live on. */
  interfaceName: string;
  family: 4 | 6 | undefined;
  /** Media was played to this party (`stop media` answers an error until then, as rtpengine). */
  played = false;
  /** Set once an SDP from this party was seen. */
  sdpSeen = false;
  /** What the SDPs sent to this party keep (rtpengine's `replace` options): the first o= username, s=, version. */
  sdpUsername?: string;
  sdpSessionName?: string;
  sdpVersion?: bigint;
  /** A digest of the last SDP for this party (`replace: sdp-version` raises the version when it changes). */
  lastOutDigest?: string;

  constructor(
    public tag: string,
    readonly created: number,
    interfaceName: string,
  ) {
    this.interfaceName = interfaceName;
  }

  close(): void {
    for (const m of this.medias) m.close();
  }
}
