/**
 * Consumer-group admin: UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200, body only), GET_ALL_SUBSCRIPTIONGROUP_CONFIG
 * (201, no header), DELETE_SUBSCRIPTIONGROUP (207), GET_CONSUMER_CONNECTION_LIST (203), GET_ALL_CONSUMER_OFFSET
 * (43, no header).
 *
 *   DeleteSubscriptionGroupRequestHeader     groupName String *, removeOffset boolean (4.9.8 name) or
 *                                            cleanOffset boolean (5.x name); default false. Both are read, both sent.
 *   GetConsumerConnectionListRequestHeader   consumerGroup String * (see clients.ts)
 */
import type { RemotingCommand } from '../command.js';
import { optionalBool, requireString } from '../fields.js';

export interface DeleteSubscriptionGroupRequestHeader {
  groupName: string;
  cleanOffset: boolean;
}

export function encodeDeleteSubscriptionGroupHeader(h: DeleteSubscriptionGroupRequestHeader): Record<string, string> {
  const clean = String(h.cleanOffset);
  return { groupName: h.groupName, removeOffset: clean, cleanOffset: clean };
}

export function decodeDeleteSubscriptionGroupHeader(req: RemotingCommand): DeleteSubscriptionGroupRequestHeader {
  const cleanOffset = optionalBool(req, 'cleanOffset') ?? optionalBool(req, 'removeOffset') ?? false;
  return { groupName: requireString(req, 'groupName'), cleanOffset };
}
