/**
 * Consumer-group admin: UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200, body only), GET_ALL_SUBSCRIPTIONGROUP_CONFIG
 * (201, no header), DELETE_SUBSCRIPTIONGROUP (207), GET_CONSUMER_CONNECTION_LIST (203), GET_ALL_CONSUMER_OFFSET
 * (43, no header).
 *
 *   DeleteSubscriptionGroupRequestHeader     groupName String *, cleanOffset boolean (default false; 5.x name,
 *                                            4.9.8 calls it removeOffset, which is not read)
 *   GetConsumerConnectionListRequestHeader   consumerGroup String * (see clients.ts)
 */
import type { RemotingCommand } from '../command.js';
import { optionalBool, requireString } from '../fields.js';

export interface DeleteSubscriptionGroupRequestHeader {
  groupName: string;
  cleanOffset: boolean;
}

export function encodeDeleteSubscriptionGroupHeader(h: DeleteSubscriptionGroupRequestHeader): Record<string, string> {
  return { groupName: h.groupName, cleanOffset: String(h.cleanOffset) };
}

export function decodeDeleteSubscriptionGroupHeader(req: RemotingCommand): DeleteSubscriptionGroupRequestHeader {
  return { groupName: requireString(req, 'groupName'), cleanOffset: optionalBool(req, 'cleanOffset') ?? false };
}
