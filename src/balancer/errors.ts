/**
 * The balancer's own NG error reasons, for what only the balancer can know. Every other error
 * a proxy sees is the member's reply, byte for byte. Operators grep for these texts.
 */
export const BalancerErrorText = {
  noMember: 'No cluster member available',
  silent: (member: string): string => `Cluster member '${member}' did not answer`,
  garbage: (member: string): string => `Cluster member '${member}' sent an invalid reply`,
} as const;
