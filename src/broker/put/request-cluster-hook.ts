/**
 * A request of request-reply (REPLY_TO_CLIENT set) is stored with this broker's CLUSTER property, which the
 * responder needs to address `<CLUSTER>_REPLY_TOPIC` (RocketMQ's send processor puts CLUSTER on every message; only
 * requests read it, so only they pay for it).
 */
import { encodedProperty, Prop, propertySeparator, propertySeparatorCode } from '../../common/properties.js';
import type { PutHook } from './types.js';

export function requestClusterHook(clusterName: string): PutHook {
  const text = encodedProperty(Prop.clusterName, clusterName);
  const bytes = Buffer.from(text, 'utf8');
  const separated = Buffer.from(propertySeparator + text, 'utf8');
  return {
    name: 'request-cluster',
    leavesPlainAlone: true,
    beforePut(msg) {
      if (msg.replyRequest !== true) return undefined;
      const p = msg.properties;
      // A properties string without its last separator (allowed on the wire) gets one first.
      if (typeof p === 'string') {
        msg.properties = p === '' || p.endsWith(propertySeparator) ? p + text : p + propertySeparator + text;
      } else {
        const closed = p.length === 0 || p[p.length - 1] === propertySeparatorCode;
        msg.properties = Buffer.concat([p, closed ? bytes : separated]);
      }
      return undefined;
    },
  };
}
