/** Acknowledging deliveries of one consumer channel in batches. */
import type { Channel, ConsumeMessage } from 'amqplib';

/** Deliveries of one consumer channel not yet settled (tags in arrival order), and those acked since the last flush. */
export interface AckState {
  open: number[];
  done: Set<number>;
  scheduled: boolean;
}

/** The channel's state, created at its first delivery. */
export function ackStateOf(book: WeakMap<Channel, AckState>, ch: Channel): AckState {
  let st = book.get(ch);
  if (!st) {
    st = { open: [], done: new Set(), scheduled: false };
    book.set(ch, st);
  }
  return st;
}

/**
 * Acks gathered during one turn go out together: the longest run of acked deliveries
 * at the front of the unsettled ones as one `ack(tag, allUpTo)`, the rest one by one.
 * A tag is never acked twice (that would close the channel).
 */
export function flushAcks(ch: Channel, st: AckState): void {
  let k = 0;
  while (k < st.open.length && st.done.has(st.open[k])) st.done.delete(st.open[k++]);
  try {
    if (k > 0) ch.ack(tagOnly(st.open[k - 1]), true);
    st.open.splice(0, k);
    if (st.done.size > 0) {
      for (const tag of st.done) ch.ack(tagOnly(tag));
      st.open = st.open.filter((t) => !st.done.has(t));
      st.done.clear();
    }
  } catch {
    // The channel closed meanwhile: the broker redelivers, and the claim drops duplicates.
  }
}

/** What `Channel.ack` reads of a message: its delivery tag. */
function tagOnly(deliveryTag: number): ConsumeMessage {
  return { fields: { deliveryTag } } as unknown as ConsumeMessage;
}

/**
 * A delivery is settled (acked or given back) once: later calls do nothing. A channel
 * that closed meanwhile throws; the broker redelivers, and the claim drops the copy.
 */
export function settleOnce(): (fn: () => void) => void {
  let settled = false;
  return (fn) => {
    if (settled) return;
    settled = true;
    try {
      fn();
    } catch {
      // the channel closed: see above
    }
  };
}
