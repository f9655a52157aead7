/**
 * Loss and reordering on a UDP stream, counted from the sequence numbers in its datagrams the way
 * iperf3 counts them, in constant space: a gap ahead of the highest number seen counts as lost; a
 * number at or below it counts as out of order, and gives back one of the losses it had caused.
 */

/** UdpSequenceCounter counts one stream's datagrams by sequence number. */
export class UdpSequenceCounter {
  /** The highest sequence number seen so far (the sender's packet count). */
  highest = 0;
  /** Datagrams missing so far (gaps not yet filled by a late arrival). */
  lost = 0;
  /** Datagrams that arrived after one with a higher number. */
  outOfOrder = 0;
  /** Datagrams received. */
  received = 0;

  /** accept counts one datagram carrying `sequence` (1 for a stream's first). */
  accept(sequence: number): void {
    this.received += 1;
    if (sequence > this.highest) {
      this.lost += sequence - 1 - this.highest;
      this.highest = sequence;
      return;
    }
    // A duplicate also lands here: like iperf3, it is taken for a late packet.
    this.outOfOrder += 1;
    if (this.lost > 0) this.lost -= 1;
  }
}
