// sockkit-udp-batch: batched UDP I/O on a socket descriptor, for sockkit's PacketConn.
//
// A UdpBatch owns a duplicate of a bound UDP socket's descriptor. It waits on it through libuv
// (uv_poll: no thread, no spinning), receives with recvmmsg into a ring of full-size slots and
// hands each wake-up's datagrams to JavaScript as one batch, and sends what JavaScript queued with
// sendmmsg. Every length is checked before a copy.
//
// Delivery is deferred to the end of the loop's poll phase (a uv_check handle): each socket that
// woke receives its batch in its poll callback, then one pass calls JavaScript for every such
// socket inside one callback scope (one tick and microtask drain, not one per socket), and only
// then sends what the callbacks queued, one sendmmsg per socket. A load of many sockets thus
// makes one Node-API callback scope per wake-up, and its replies leave together. The pass's state
// is per thread (one event loop, one Node-API environment each): see `loop_state`.
//
// JavaScript API (see index.d.ts):
//   new UdpBatch(fd, batchSize, queueLimit, onReceive, onError)
//   .meta                       ArrayBuffer: META_ENTRY bytes per datagram of the current batch
//   .enqueue(data, port, host)  queue one datagram; returns the queue length or -errno
//   .flush()                    send what is queued; returns 0 or the errno of the first failure
//   .sendNow(data, port, host)  send one datagram at once; returns 0 or -errno
//   .close(callback?)           send what is queued, stop, close the duplicate descriptor,
//                               then call callback (idempotent: a second call does nothing)
//   .stats()                    { messages, datagrams, gsoMessages, gso }: what flush sent so far
//                               (messages: sendmmsg entries; datagrams: what they carried), and
//                               whether GSO is on for this socket
//   .setGso(on)                 turn GSO on or off for this socket (on: only where the kernel has it)
//   .setGro(on)                 the same for GRO on receive (stats() then says gro, and counts
//                               receivedMessages against receivedDatagrams)
//   totals()                    { messages, datagrams, gsoMessages, receivedMessages,
//                               receivedDatagrams }: the sums of every UdpBatch's stats() on this
//                               thread (closed ones included)
//   onReceive(count, data, start) data holds the batch's payloads back to back, in order, from
//                               byte `start` (the sockets of one delivery pass share `data`)
//   onError(errno)              a receive or a queued send failed (ICMP errors, EACCES, ...)
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

// SLOT is one receive buffer: the largest UDP payload (65,527 bytes over IPv6) fits, so a datagram
// is never truncated. The ring is mapped lazily, so only the pages datagrams touch become resident.
#define SLOT 65536
#define MAX_PAYLOAD 65527
#define MAX_BATCH 256
#define SEND_CHUNK 64
#define MAX_QUEUE (1 << 20)
// The send arena is kept between turns up to this size, and freed once empty beyond it.
#define ARENA_KEEP (256 * 1024)
// GSO (UDP_SEGMENT, Linux 4.18): a run of queued datagrams to one destination, all of one length
// but the last (which may be shorter), leaves as one message that the kernel (or the NIC) cuts
// into datagrams: one pass down the stack instead of one per datagram. A run holds at most
// GSO_MAX_SEGMENTS (the kernel's UDP_MAX_SEGMENTS was 64 until 6.9) and at most one IP packet's
// payload (65,507 bytes over IPv4, 65,527 over IPv6).
#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#define GSO_MAX_SEGMENTS 64
// GRO (UDP_GRO, Linux 5.0): the kernel may hand over several datagrams of one peer as one
// message, with their segment size in a cmsg; receive notes it and deliver cuts the message at
// every segment boundary, so JavaScript sees the datagrams that were sent.
#ifndef UDP_GRO
#define UDP_GRO 104
#endif
// RCONTROL: each receive slot's control buffer, room for the UDP_GRO cmsg and a few others.
#define RCONTROL 64
#define MAX_PAYLOAD_V4 65507
// UDP_BATCH_ABI is the contract with native-io.ts; bumped when it changes (see New).
#define UDP_BATCH_ABI 2
// A delivery pass's payloads share one buffer up to this size (see deliver_all).
#define SHARED_PASS_MAX (256 * 1024)
// META_ENTRY: u32 length, u16 port, u8 family (4|6), u8 text length, u32 IPv4 address (host
// order, 0 for IPv6), then the address as text (Node's form: "fe80::1%eth0").
#define META_ENTRY 96
#define META_TEXT 12
#define HOST_TEXT 80
// Returned by enqueue/sendNow when host is not an IP literal: the caller sends it another way.
#define NOT_LITERAL (-100000)

typedef struct {
  size_t offset;
  uint32_t length;
  socklen_t name_length;  // 0: the connected peer
  struct sockaddr_storage name;
} queued_t;

typedef struct batch_s {
  napi_env env;
  napi_ref on_receive;
  napi_ref on_error;
  napi_ref meta_ref;
  napi_ref on_closed;  // close(callback): called once the descriptor is closed
  uint8_t *meta;
  napi_async_context async;
  uv_poll_t poll;
  int fd;
  int family;  // AF_INET or AF_INET6: the socket's own
  int batch;
  int events;
  uint8_t *ring;
  size_t ring_size;
  struct mmsghdr *rmsgs;
  struct iovec *riov;
  struct sockaddr_storage *rnames;
  // Per receive slot: its control buffer, and the segment size a GRO message came with (0: one
  // datagram).
  union {
    char buffer[RCONTROL];
    struct cmsghdr align;
  } *rcontrol;
  uint32_t *rsegment;
  int gro;
  double received_messages;
  double received_datagrams;
  struct mmsghdr smsgs[SEND_CHUNK];
  struct iovec siov[SEND_CHUNK];
  // Per send message: the datagrams it carries (more than 1: a GSO run), and its UDP_SEGMENT cmsg.
  uint32_t scount[SEND_CHUNK];
  union {
    char buffer[CMSG_SPACE(sizeof(uint16_t))];
    struct cmsghdr align;
  } scontrol[SEND_CHUNK];
  // GSO state: gso is on (the kernel has UDP_SEGMENT and has not refused it); gso_proven once a
  // GSO message went out; gso_refused_size, once non-zero, is the smallest segment size refused
  // after that (a path MTU below it: larger runs go plain); plain_left, datagrams at the queue's
  // head that go plain because the kernel refused them as one GSO message.
  int gso;
  int gso_proven;
  uint32_t gso_refused_size;
  uint32_t plain_left;
  double sent_messages;
  double sent_datagrams;
  double gso_messages;
  queued_t *queue;
  uint32_t queue_limit;
  uint32_t queue_capacity;
  uint32_t queue_sent;
  uint32_t queue_length;
  uint8_t *arena;
  size_t arena_capacity;
  size_t arena_length;
  int closing;
  int closed;     // on_close ran: descriptor closed, buffers freed
  int finalized;  // the JavaScript object is gone
  int received;   // datagrams received by recvmmsg, not yet delivered (the headers hold them)
  // Links in the loop's lists: sockets with a batch to deliver, and sockets written to during
  // delivery (to flush once it ends). A socket is in each at most once (the flags say so).
  struct batch_s *next_ready;
  struct batch_s *next_flush;
  int in_ready;
  int in_flush;
  // The text of the last IPv4 peer described (INET_ADDRSTRLEN is 16), and its address.
  char ipv4_text[16];
  uint32_t ipv4_text_of;
  int ipv4_text_valid;
} batch_t;

// loop_state_t is one event loop's delivery pass (see the header comment).
typedef struct {
  int initialised;
  napi_env env;
  uv_check_t check;
  napi_async_context async;
  batch_t *ready;
  batch_t *to_flush;
  int delivering;
} loop_state_t;

// One per thread: Node runs one environment and one event loop per thread (the main thread and
// each worker), so this is per loop, as the libuv handle in it must be.
static _Thread_local loop_state_t loop_state;

// totals_t sums what every socket of this thread sent and received (see totals()).
typedef struct {
  double messages;
  double datagrams;
  double gso_messages;
  double received_messages;
  double received_datagrams;
} totals_t;
static _Thread_local totals_t totals;

static void on_poll(uv_poll_t *handle, int status, int events);
static void deliver_all(uv_check_t *handle);
static uint32_t gro_segment(struct mmsghdr *m);

#define CALL(env, call)                                                      \
  do {                                                                       \
    if ((call) != napi_ok) {                                                 \
      const napi_extended_error_info *info;                                  \
      napi_get_last_error_info((env), &info);                                \
      bool pending;                                                          \
      napi_is_exception_pending((env), &pending);                            \
      if (!pending)                                                          \
        napi_throw_error((env), NULL,                                        \
                         info && info->error_message ? info->error_message   \
                                                     : "udp-batch: napi failed"); \
      return NULL;                                                           \
    }                                                                        \
  } while (0)

static int set_poll(batch_t *b) {
  int events = UV_READABLE | (b->queue_sent < b->queue_length ? UV_WRITABLE : 0);
  if (events == b->events) return 0;
  b->events = events;
  return uv_poll_start(&b->poll, events, on_poll);
}

// call_js calls a stored callback through napi_make_callback, so that process.nextTick work and
// promises queued by it run when it returns, as after any Node callback. An exception it throws
// is passed to Node as uncaught (sockkit's callbacks catch their own).
static void call_js(batch_t *b, napi_ref fn_ref, size_t argc, napi_value *argv) {
  napi_env env = b->env;
  napi_value fn, global, result;
  if (napi_get_reference_value(env, fn_ref, &fn) != napi_ok || fn == NULL) return;
  napi_get_global(env, &global);
  napi_status status = napi_make_callback(env, b->async, global, fn, argc, argv, &result);
  if (status == napi_pending_exception) {
    napi_value error;
    if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
  }
}

static void report_error(batch_t *b, int error) {
  napi_handle_scope scope;
  if (napi_open_handle_scope(b->env, &scope) != napi_ok) return;
  napi_value argv[1];
  napi_create_int32(b->env, error, &argv[0]);
  call_js(b, b->on_error, 1, argv);
  napi_close_handle_scope(b->env, scope);
}

// gso_run counts the queued datagrams from `at` (before `end`) that can leave as one GSO
// message: the same destination, the same length as the first but the last (shorter ends the
// run), their bytes back to back in the arena (enqueue appends, compaction keeps the order), at
// most GSO_MAX_SEGMENTS and one IP packet's payload. 1: send it plain.
static uint32_t gso_run(const batch_t *b, uint32_t at, uint32_t end) {
  const queued_t *first = &b->queue[at];
  uint32_t size = first->length;
  if (!b->gso || size == 0 || (b->gso_refused_size != 0 && size >= b->gso_refused_size)) return 1;
  // An IPv6 socket's IPv4-mapped or connected peer may be IPv4: the IPv4 limit, to be safe.
  const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&first->name;
  size_t limit = b->family == AF_INET6 && first->name_length > 0 && !IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)
                     ? MAX_PAYLOAD
                     : MAX_PAYLOAD_V4;
  size_t total = size;
  uint32_t count = 1;
  while (at + count < end && count < GSO_MAX_SEGMENTS) {
    const queued_t *q = &b->queue[at + count];
    if (q->length == 0 || q->length > size || total + q->length > limit ||
        q->offset != first->offset + total || q->name_length != first->name_length ||
        memcmp(&q->name, &first->name, first->name_length) != 0)
      break;
    total += q->length;
    count += 1;
    if (q->length < size) break;
  }
  return count;
}

// gso_refused handles the kernel's refusal of a GSO message of segments of `size` bytes with
// `error`: EINVAL (a segment over the path MTU, a socket with SO_NO_CHECK), EIO (UDP-Lite, IPsec),
// ENOPROTOOPT or EOPNOTSUPP (no GSO here), EMSGSIZE. Refused before any GSO message went out: GSO
// is off for the socket; after: runs of that size and larger go plain. 0: not a GSO refusal.
static int gso_refused(batch_t *b, int error, uint32_t size) {
  if (error != EINVAL && error != EIO && error != ENOPROTOOPT && error != EOPNOTSUPP &&
      error != EMSGSIZE)
    return 0;
  if (!b->gso_proven)
    b->gso = 0;
  else if (b->gso_refused_size == 0 || size < b->gso_refused_size)
    b->gso_refused_size = size;
  return 1;
}

// flush sends the queue with sendmmsg, SEND_CHUNK messages per call: a run that gso_run finds
// goes as one message with a UDP_SEGMENT cmsg, any other datagram as a message of its own, in
// queue order. A GSO message the kernel refuses (see gso_refused) is sent again plainly, datagram
// by datagram. A datagram the kernel refuses is dropped (as Node's dgram drops it) and its errno
// kept for the caller; EAGAIN stops, and the rest goes when the socket is writable again.
// Returns the first failure's errno, or 0.
static int flush(batch_t *b) {
  int first_error = 0;
  while (b->queue_sent < b->queue_length) {
    uint32_t at = b->queue_sent;
    uint32_t plain = b->plain_left;
    int count = 0;
    while (count < SEND_CHUNK && at < b->queue_length) {
      queued_t *q = &b->queue[at];
      uint32_t run = plain > 0 ? 1 : gso_run(b, at, b->queue_length);
      if (plain > 0) plain -= 1;
      struct msghdr *m = &b->smsgs[count].msg_hdr;
      memset(&b->smsgs[count], 0, sizeof b->smsgs[count]);
      b->siov[count].iov_base = b->arena + q->offset;
      b->siov[count].iov_len = q->length;
      m->msg_iov = &b->siov[count];
      m->msg_iovlen = 1;
      if (q->name_length > 0) {
        m->msg_name = &q->name;
        m->msg_namelen = q->name_length;
      }
      if (run > 1) {
        const queued_t *last = &b->queue[at + run - 1];
        b->siov[count].iov_len = last->offset + last->length - q->offset;
        m->msg_control = b->scontrol[count].buffer;
        m->msg_controllen = sizeof b->scontrol[count].buffer;
        struct cmsghdr *c = CMSG_FIRSTHDR(m);
        c->cmsg_level = SOL_UDP;
        c->cmsg_type = UDP_SEGMENT;
        c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        uint16_t gso_size = (uint16_t)q->length;
        memcpy(CMSG_DATA(c), &gso_size, sizeof gso_size);
      }
      b->scount[count] = run;
      at += run;
      count += 1;
    }
    int sent = sendmmsg(b->fd, b->smsgs, (unsigned)count, 0);
    if (sent < 0) {
      int error = errno;
      if (error == EINTR) continue;
      if (error == EAGAIN || error == EWOULDBLOCK || error == ENOBUFS) break;
      if (b->scount[0] > 1 && gso_refused(b, error, b->queue[b->queue_sent].length)) {
        b->plain_left = b->scount[0];  // the same datagrams again, plainly
        continue;
      }
      if (first_error == 0) first_error = error;
      // The first datagram of the chunk failed: drop it, go on (a GSO run's others are regrouped).
      b->queue_sent += 1;
      if (b->plain_left > 0) b->plain_left -= 1;
      continue;
    }
    uint32_t datagrams = 0;
    for (int i = 0; i < sent; i++) {
      datagrams += b->scount[i];
      if (b->scount[i] > 1) {
        b->gso_messages += 1;
        totals.gso_messages += 1;
        b->gso_proven = 1;
      }
    }
    b->sent_messages += sent;
    b->sent_datagrams += datagrams;
    totals.messages += sent;
    totals.datagrams += datagrams;
    b->queue_sent += datagrams;
    b->plain_left = b->plain_left > datagrams ? b->plain_left - datagrams : 0;
  }
  if (b->queue_sent == b->queue_length) {
    b->queue_sent = b->queue_length = 0;
    b->plain_left = 0;
    b->arena_length = 0;
    // A burst of large sends grew the arena: give it back rather than keep it for the socket's life.
    if (b->arena_capacity > ARENA_KEEP) {
      free(b->arena);
      b->arena = NULL;
      b->arena_capacity = 0;
    }
  }
  if (!b->closing) set_poll(b);
  return first_error;
}

// pending_error fetches an error the socket reports without data: sk_err (SO_ERROR), or the
// first entry of the error queue when someone turned IP_RECVERR on (the queue is drained, or the
// descriptor would stay readable-with-error and wake the loop for ever).
static int pending_error(batch_t *b) {
  int error = 0;
  socklen_t length = sizeof error;
  if (getsockopt(b->fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error != 0) return error;
  for (int i = 0; i < b->batch; i++) {
    char control[512];
    uint8_t discard[64];
    struct iovec iov = {discard, sizeof discard};
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = control;
    m.msg_controllen = sizeof control;
    if (recvmsg(b->fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) break;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
      if ((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
          (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
        struct sock_extended_err extended;
        if (c->cmsg_len < CMSG_LEN(sizeof extended)) continue;
        memcpy(&extended, CMSG_DATA(c), sizeof extended);
        if (error == 0) error = (int)extended.ee_errno;
      }
    }
  }
  return error;
}

static void describe(batch_t *b, uint8_t *entry, const struct sockaddr_storage *name,
                     socklen_t name_length, uint32_t length) {
  memset(entry, 0, META_ENTRY);
  memcpy(entry, &length, 4);
  char *text = (char *)entry + META_TEXT;
  uint16_t port = 0;
  uint8_t family = 0;
  uint32_t ipv4 = 0;
  if (name->ss_family == AF_INET && name_length >= sizeof(struct sockaddr_in)) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)name;
    family = 4;
    port = ntohs(a->sin_port);
    ipv4 = ntohl(a->sin_addr.s_addr);
    // A socket hears mostly from the same peers: the last address's text is kept, not formatted again.
    if (!b->ipv4_text_valid || b->ipv4_text_of != ipv4) {
      inet_ntop(AF_INET, &a->sin_addr, b->ipv4_text, sizeof b->ipv4_text);
      b->ipv4_text_of = ipv4;
      b->ipv4_text_valid = 1;
    }
    memcpy(text, b->ipv4_text, sizeof b->ipv4_text);
  } else if (name->ss_family == AF_INET6 && name_length >= sizeof(struct sockaddr_in6)) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)name;
    family = 6;
    port = ntohs(a->sin6_port);
    inet_ntop(AF_INET6, &a->sin6_addr, text, HOST_TEXT);
    // As Node writes it: a link-local address carries its interface ("fe80::1%eth0").
    if (IN6_IS_ADDR_LINKLOCAL(&a->sin6_addr) && a->sin6_scope_id > 0) {
      size_t used = strlen(text);
      char name_buffer[IF_NAMESIZE];
      if (used + 1 + IF_NAMESIZE < HOST_TEXT) {
        if (if_indextoname(a->sin6_scope_id, name_buffer) != NULL)
          snprintf(text + used, HOST_TEXT - used, "%%%s", name_buffer);
        else
          snprintf(text + used, HOST_TEXT - used, "%%%u", a->sin6_scope_id);
      }
    }
  }
  size_t text_length = strnlen(text, HOST_TEXT - 1);
  memcpy(entry + 4, &port, 2);
  entry[6] = family;
  entry[7] = (uint8_t)text_length;
  memcpy(entry + 8, &ipv4, 4);
}

// prepare_receive points each receive header at its slot and its address buffer, once: recvmmsg
// writes back only msg_len, msg_namelen and msg_flags, which receive resets after each call.
static void prepare_receive(batch_t *b) {
  for (int i = 0; i < b->batch; i++) {
    b->riov[i].iov_base = b->ring + (size_t)i * SLOT;
    b->riov[i].iov_len = SLOT;
    memset(&b->rmsgs[i], 0, sizeof b->rmsgs[i]);
    b->rmsgs[i].msg_hdr.msg_iov = &b->riov[i];
    b->rmsgs[i].msg_hdr.msg_iovlen = 1;
    b->rmsgs[i].msg_hdr.msg_name = &b->rnames[i];
    b->rmsgs[i].msg_hdr.msg_namelen = sizeof b->rnames[i];
    b->rmsgs[i].msg_hdr.msg_control = b->rcontrol[i].buffer;
    b->rmsgs[i].msg_hdr.msg_controllen = RCONTROL;
  }
}

// reset_received makes the first `count` receive headers ready for the next recvmmsg.
static void reset_received(batch_t *b, int count) {
  for (int i = 0; i < count; i++) {
    b->rmsgs[i].msg_len = 0;
    b->rmsgs[i].msg_hdr.msg_namelen = sizeof b->rnames[i];
    b->rmsgs[i].msg_hdr.msg_controllen = RCONTROL;
    b->rmsgs[i].msg_hdr.msg_flags = 0;
    b->rsegment[i] = 0;
  }
}

// mark_ready puts `b` on its loop's list of sockets with a batch to deliver, and makes sure the
// delivery pass runs at the end of this poll phase.
static void mark_ready(batch_t *b) {
  loop_state_t *loop = &loop_state;
  if (b->in_ready) return;
  b->in_ready = 1;
  b->next_ready = loop->ready;
  loop->ready = b;
  uv_check_start(&loop->check, deliver_all);
}

// unlink_from_loop takes a closing socket off its loop's lists: its memory may be freed before the
// next pass (on_close, when the JavaScript object is gone).
static void unlink_from_loop(batch_t *b) {
  loop_state_t *loop = &loop_state;
  if (b->in_ready) {
    for (batch_t **at = &loop->ready; *at != NULL; at = &(*at)->next_ready)
      if (*at == b) {
        *at = b->next_ready;
        break;
      }
    b->in_ready = 0;
    b->next_ready = NULL;
  }
  if (b->in_flush) {
    for (batch_t **at = &loop->to_flush; *at != NULL; at = &(*at)->next_flush)
      if (*at == b) {
        *at = b->next_flush;
        break;
      }
    b->in_flush = 0;
    b->next_flush = NULL;
  }
}

// receive makes one recvmmsg call (one batch per wake-up; level-triggered polling brings the next
// batch on the next turn, so other sockets and timers get their turn) and leaves the batch in the
// ring for this poll phase's delivery pass. The headers were set up by prepare_receive: a wake-up
// with one datagram costs one header's reset, not the whole batch's.
static void receive(batch_t *b) {
  if (b->received > 0) return;  // the last batch is not delivered yet (libuv polled twice)
  int count;
  do count = recvmmsg(b->fd, b->rmsgs, (unsigned)b->batch, MSG_DONTWAIT, NULL);
  while (count < 0 && errno == EINTR);
  if (count < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) report_error(b, errno);
    return;
  }
  if (count == 0) return;
  if (count > b->batch) count = b->batch;  // never, by recvmmsg's contract; the loops below rely on it
  for (int i = 0; i < count; i++) {
    // The kernel never reports more than the slot holds; a truncated datagram is dropped whole.
    if (b->rmsgs[i].msg_len > SLOT || (b->rmsgs[i].msg_hdr.msg_flags & MSG_TRUNC))
      b->rmsgs[i].msg_len = UINT32_MAX;
    else
      b->rsegment[i] = gro_segment(&b->rmsgs[i]);
  }
  b->received = count;
  mark_ready(b);
}

// gro_segment returns the segment size of a message GRO made of several datagrams, or 0 when it
// holds one (no UDP_GRO cmsg, or a segment size not below its length).
static uint32_t gro_segment(struct mmsghdr *m) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m->msg_hdr); c != NULL; c = CMSG_NXTHDR(&m->msg_hdr, c)) {
    if (c->cmsg_level != SOL_UDP || c->cmsg_type != UDP_GRO || c->cmsg_len < CMSG_LEN(sizeof(int)))
      continue;
    int size;
    memcpy(&size, CMSG_DATA(c), sizeof size);
    return size > 0 && (uint32_t)size < m->msg_len ? (uint32_t)size : 0;
  }
  return 0;
}

// received_bytes is the payload bytes of `b`'s received batch (truncated datagrams left out).
static size_t received_bytes(const batch_t *b) {
  size_t total = 0;
  for (int i = 0; i < b->received; i++)
    if (b->rmsgs[i].msg_len != UINT32_MAX) total += b->rmsgs[i].msg_len;
  return total;
}

// call_receive calls `b`'s onReceive with (count, data, start). An exception it throws is passed
// to Node as uncaught.
static void call_receive(batch_t *b, napi_value *argv) {
  napi_env env = b->env;
  napi_value fn, global, result;
  if (napi_get_reference_value(env, b->on_receive, &fn) == napi_ok && fn != NULL &&
      napi_get_global(env, &global) == napi_ok &&
      napi_call_function(env, global, fn, 3, argv, &result) == napi_pending_exception) {
    napi_value error;
    if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
  }
}

// deliver hands `b`'s received batch to its onReceive, inside the delivery pass's callback scope.
// The payloads are copied to `shared` at *at (the pass's one buffer), or, when it is NULL, to a
// buffer of their own. A GRO message is cut into its datagrams; since the meta buffer holds
// `batch` entries, a batch of more datagrams than that is handed over in several calls (none
// after one that closed the socket).
static void deliver(batch_t *b, napi_value shared, uint8_t *shared_data, size_t *at) {
  int count = b->received;
  size_t total = received_bytes(b);
  b->received = 0;
  napi_env env = b->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) {
    reset_received(b, count);
    return;
  }
  uint8_t *data = shared_data;
  size_t start = shared != NULL ? *at : 0;
  napi_value argv[3];
  argv[1] = shared;
  if (shared != NULL || napi_create_buffer(env, total, (void **)&data, &argv[1]) == napi_ok) {
    // The batch is copied out whole first: what JavaScript does may close this socket (its ring
    // and headers stay allocated until on_close, later in this turn of the loop), and the data
    // must not change under a later call's datagrams.
    size_t end = start;
    for (int i = 0; i < count; i++) {
      uint32_t length = b->rmsgs[i].msg_len;
      if (length == UINT32_MAX) continue;
      if (length > 0) memcpy(data + end, b->riov[i].iov_base, length);
      end += length;
    }
    if (shared != NULL) *at = end;
    size_t chunk_start = start, offset = start;
    int kept = 0;
    for (int i = 0; i < count && !b->closing; i++) {
      uint32_t length = b->rmsgs[i].msg_len;
      if (length == UINT32_MAX) continue;
      uint32_t segment = b->rsegment[i] > 0 ? b->rsegment[i] : length;
      uint32_t left = length;
      b->received_messages += 1;
      totals.received_messages += 1;
      do {
        uint32_t piece = left < segment ? left : segment;
        describe(b, b->meta + (size_t)kept * META_ENTRY, &b->rnames[i], b->rmsgs[i].msg_hdr.msg_namelen,
                 piece);
        kept += 1;
        b->received_datagrams += 1;
        totals.received_datagrams += 1;
        offset += piece;
        left -= piece;
        if (kept == b->batch) {  // the meta buffer is full: hand these over
          napi_create_int32(env, kept, &argv[0]);
          napi_create_double(env, (double)chunk_start, &argv[2]);
          call_receive(b, argv);
          chunk_start = offset;
          kept = 0;
        }
      } while (left > 0 && !b->closing);
    }
    reset_received(b, count);
    if (kept > 0 && !b->closing) {
      napi_create_int32(env, kept, &argv[0]);
      napi_create_double(env, (double)chunk_start, &argv[2]);
      call_receive(b, argv);
    }
  } else {
    reset_received(b, count);
  }
  napi_close_handle_scope(env, scope);
}

// deliver_all is the delivery pass (a uv_check callback: after the poll phase). Every socket that
// received a batch has it delivered, in one callback scope: its close runs process.nextTick work
// and promises once for the whole pass. Then what the callbacks queued is sent, socket by socket.
static void deliver_all(uv_check_t *handle) {
  loop_state_t *loop = handle->data;
  if (loop->ready == NULL && loop->to_flush == NULL) {
    uv_check_stop(handle);
    return;
  }
  napi_env env = loop->env;
  napi_handle_scope scope;
  napi_value resource;
  napi_callback_scope callback_scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;  // the pass runs again next turn
  if (napi_create_object(env, &resource) != napi_ok ||
      napi_open_callback_scope(env, resource, loop->async, &callback_scope) != napi_ok) {
    napi_close_handle_scope(env, scope);
    return;
  }
  // One buffer holds the whole pass's payloads (sockets only leave the list during the pass, so
  // they fit), unless that is large: then each socket's batch has a buffer of its own, so that a
  // datagram kept by JavaScript never holds more than its own socket's batch.
  size_t pass_total = 0;
  for (batch_t *b = loop->ready; b != NULL; b = b->next_ready) pass_total += received_bytes(b);
  napi_value shared = NULL;
  uint8_t *shared_data = NULL;
  size_t shared_at = 0;
  if (pass_total > SHARED_PASS_MAX ||
      napi_create_buffer(env, pass_total, (void **)&shared_data, &shared) != napi_ok)
    shared = NULL;
  loop->delivering = 1;
  while (loop->ready != NULL) {
    batch_t *b = loop->ready;  // a socket closed meanwhile has left the list (unlink_from_loop)
    loop->ready = b->next_ready;
    b->next_ready = NULL;
    b->in_ready = 0;
    deliver(b, shared, shared_data, &shared_at);
  }
  loop->delivering = 0;
  napi_close_callback_scope(env, callback_scope);
  while (loop->to_flush != NULL) {
    batch_t *b = loop->to_flush;
    loop->to_flush = b->next_flush;
    b->next_flush = NULL;
    b->in_flush = 0;
    int error = flush(b);
    if (error != 0) report_error(b, error);
  }
  napi_close_handle_scope(env, scope);
  if (loop->ready == NULL) uv_check_stop(handle);
}

static void loop_cleanup(void *arg) {
  loop_state_t *loop = arg;
  uv_check_stop(&loop->check);
  uv_close((uv_handle_t *)&loop->check, NULL);  // static storage: nothing to free when it closes
  napi_async_destroy(loop->env, loop->async);
  loop->ready = loop->to_flush = NULL;
  loop->initialised = 0;
}

// loop_init sets up this thread's delivery pass on first use. Returns 0, or -1 when it could not.
static int loop_init(napi_env env, uv_loop_t *uv_loop) {
  loop_state_t *loop = &loop_state;
  if (loop->initialised) return loop->env == env ? 0 : -1;
  napi_value name;
  if (napi_create_string_utf8(env, "sockkit:UdpBatchDelivery", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, NULL, name, &loop->async) != napi_ok)
    return -1;
  if (uv_check_init(uv_loop, &loop->check) != 0) {
    napi_async_destroy(env, loop->async);
    return -1;
  }
  // The pass never keeps the loop alive: the sockets' poll handles do, while they are open.
  uv_unref((uv_handle_t *)&loop->check);
  loop->check.data = loop;
  loop->env = env;
  loop->ready = loop->to_flush = NULL;
  loop->delivering = 0;
  if (napi_add_env_cleanup_hook(env, loop_cleanup, loop) != napi_ok) {
    uv_close((uv_handle_t *)&loop->check, NULL);
    napi_async_destroy(env, loop->async);
    return -1;
  }
  loop->initialised = 1;
  return 0;
}

static void on_poll(uv_poll_t *handle, int status, int events) {
  batch_t *b = handle->data;
  if (b->closing) return;
  if (status < 0) {
    // libuv stops polling on POLLERR (a pending ICMP error): report it, then poll again.
    b->events = 0;
    int error = pending_error(b);
    if (error != 0) report_error(b, error);
    if (!b->closing) set_poll(b);
    return;
  }
  if ((events & UV_WRITABLE) && b->queue_sent < b->queue_length) {
    int error = flush(b);
    if (error != 0) report_error(b, error);
    if (b->closing) return;
  }
  if (events & UV_READABLE) receive(b);
}

static void on_close(uv_handle_t *handle) {
  batch_t *b = handle->data;
  close(b->fd);
  b->fd = -1;
  if (b->ring) munmap(b->ring, b->ring_size);
  b->ring = NULL;
  free(b->rmsgs);
  free(b->riov);
  free(b->rnames);
  free(b->rcontrol);
  free(b->rsegment);
  free(b->queue);
  free(b->arena);
  b->rcontrol = NULL;
  b->rsegment = NULL;
  b->rmsgs = NULL;
  b->riov = NULL;
  b->rnames = NULL;
  b->queue = NULL;
  b->arena = NULL;
  if (!b->finalized) {
    if (b->on_closed != NULL) {
      napi_handle_scope scope;
      if (napi_open_handle_scope(b->env, &scope) == napi_ok) {
        call_js(b, b->on_closed, 0, NULL);
        napi_close_handle_scope(b->env, scope);
      }
      napi_delete_reference(b->env, b->on_closed);
    }
    napi_delete_reference(b->env, b->on_receive);
    napi_delete_reference(b->env, b->on_error);
    napi_delete_reference(b->env, b->meta_ref);
    napi_async_destroy(b->env, b->async);
  }
  b->closed = 1;
  if (b->finalized) free(b);
}

static void start_close(batch_t *b) {
  if (b->closing) return;
  b->closing = 1;
  // The descriptor is shared with the dgram socket, which never cuts GRO messages up.
  if (b->gro) {
    int off = 0;
    setsockopt(b->fd, SOL_UDP, UDP_GRO, &off, sizeof off);
  }
  unlink_from_loop(b);
  uv_poll_stop(&b->poll);
  uv_close((uv_handle_t *)&b->poll, on_close);
}

static void finalize(napi_env env, void *data, void *hint) {
  batch_t *b = data;
  b->finalized = 1;
  if (b->closed) {
    free(b);
    return;
  }
  // Collected without close(): the references die with the object; on_close frees the rest.
  start_close(b);
}

static batch_t *unwrap(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value self;
  batch_t *b = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok) return NULL;
  if (napi_unwrap(env, self, (void **)&b) != napi_ok || b == NULL) {
    napi_throw_type_error(env, NULL, "udp-batch: not a UdpBatch");
    return NULL;
  }
  return b;
}

// payload reads a Uint8Array (or Buffer) argument; throws TypeError for anything else.
static int payload(napi_env env, napi_value value, uint8_t **data, size_t *length) {
  bool is_typed = false;
  napi_is_typedarray(env, value, &is_typed);
  if (!is_typed) {
    napi_throw_type_error(env, NULL, "udp-batch: data must be a Uint8Array");
    return -1;
  }
  napi_typedarray_type type;
  size_t elements;
  void *bytes;
  if (napi_get_typedarray_info(env, value, &type, &elements, &bytes, NULL, NULL) != napi_ok ||
      (type != napi_uint8_array && type != napi_int8_array && type != napi_uint8_clamped_array)) {
    napi_throw_type_error(env, NULL, "udp-batch: data must be a Uint8Array");
    return -1;
  }
  *data = bytes;
  *length = elements;
  return 0;
}

// destination parses port and host (an IP literal, IPv6 possibly with %zone) into a sockaddr of
// the socket's family (IPv4 becomes IPv4-mapped on an IPv6 socket). An undefined host means the
// connected peer (*name_length = 0). Returns 0, NOT_LITERAL, or -errno.
static int destination(napi_env env, batch_t *b, napi_value port_value, napi_value host_value,
                       struct sockaddr_storage *name, socklen_t *name_length) {
  napi_valuetype type;
  *name_length = 0;
  napi_typeof(env, host_value, &type);
  if (type == napi_undefined || type == napi_null) return 0;
  if (type != napi_string) return NOT_LITERAL;
  char host[HOST_TEXT];
  size_t host_length = 0;
  if (napi_get_value_string_latin1(env, host_value, host, sizeof host, &host_length) != napi_ok ||
      host_length >= sizeof host - 1)
    return NOT_LITERAL;
  double port_number = -1;
  if (napi_get_value_double(env, port_value, &port_number) != napi_ok || !(port_number >= 1) ||
      port_number > 65535 || port_number != (double)(int)port_number)
    return NOT_LITERAL;  // dgram words the error for a bad port
  uint16_t port = htons((uint16_t)port_number);
  memset(name, 0, sizeof *name);
  struct in_addr v4;
  if (inet_pton(AF_INET, host, &v4) == 1) {
    if (b->family == AF_INET) {
      struct sockaddr_in *a = (struct sockaddr_in *)name;
      a->sin_family = AF_INET;
      a->sin_port = port;
      a->sin_addr = v4;
      *name_length = sizeof *a;
    } else {
      struct sockaddr_in6 *a = (struct sockaddr_in6 *)name;
      a->sin6_family = AF_INET6;
      a->sin6_port = port;
      a->sin6_addr.s6_addr[10] = 0xff;
      a->sin6_addr.s6_addr[11] = 0xff;
      memcpy(&a->sin6_addr.s6_addr[12], &v4, 4);
      *name_length = sizeof *a;
    }
    return 0;
  }
  char *zone = strchr(host, '%');
  if (zone != NULL) *zone++ = '\0';
  struct in6_addr v6;
  if (inet_pton(AF_INET6, host, &v6) != 1) return NOT_LITERAL;
  if (b->family != AF_INET6) return -EAFNOSUPPORT;
  struct sockaddr_in6 *a = (struct sockaddr_in6 *)name;
  a->sin6_family = AF_INET6;
  a->sin6_port = port;
  a->sin6_addr = v6;
  if (zone != NULL && *zone != '\0') {
    unsigned index = if_nametoindex(zone);
    if (index == 0) {
      char *end;
      unsigned long number = strtoul(zone, &end, 10);
      if (*end != '\0' || number == 0 || number > UINT32_MAX) return NOT_LITERAL;
      index = (unsigned)number;
    }
    a->sin6_scope_id = index;
  }
  *name_length = sizeof *a;
  return 0;
}

static napi_value int_result(napi_env env, int value) {
  napi_value result;
  napi_create_int32(env, value, &result);
  return result;
}

static napi_value Enqueue(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  batch_t *b = unwrap(env, info, &argc, argv);
  if (b == NULL) return NULL;
  if (b->closing) return int_result(env, -EBADF);
  uint8_t *data;
  size_t length;
  if (argc < 3 || payload(env, argv[0], &data, &length) != 0) {
    if (argc < 3) napi_throw_type_error(env, NULL, "udp-batch: enqueue(data, port, host)");
    return NULL;
  }
  if (length > MAX_PAYLOAD) return int_result(env, -EMSGSIZE);
  if (b->queue_length >= b->queue_limit) {
    if (b->queue_sent == 0) return int_result(env, -ENOBUFS);
    // Move what is still waiting to the front, with its bytes.
    size_t first = b->queue[b->queue_sent].offset;
    uint32_t waiting = b->queue_length - b->queue_sent;
    memmove(b->arena, b->arena + first, b->arena_length - first);
    memmove(b->queue, b->queue + b->queue_sent, waiting * sizeof *b->queue);
    for (uint32_t i = 0; i < waiting; i++) b->queue[i].offset -= first;
    b->arena_length -= first;
    b->queue_sent = 0;
    b->queue_length = waiting;
  }
  queued_t entry;
  int parsed = destination(env, b, argv[1], argv[2], &entry.name, &entry.name_length);
  if (parsed != 0) return int_result(env, parsed);
  if (b->queue_length == b->queue_capacity) {
    uint32_t capacity = b->queue_capacity ? b->queue_capacity * 2 : 64;
    if (capacity > b->queue_limit) capacity = b->queue_limit;
    queued_t *grown = realloc(b->queue, capacity * sizeof *grown);
    if (grown == NULL) return int_result(env, -ENOBUFS);
    b->queue = grown;
    b->queue_capacity = capacity;
  }
  if (length > b->arena_capacity - b->arena_length) {
    size_t capacity = b->arena_capacity ? b->arena_capacity : 65536;
    while (capacity - b->arena_length < length) capacity *= 2;
    uint8_t *grown = realloc(b->arena, capacity);
    if (grown == NULL) return int_result(env, -ENOBUFS);
    b->arena = grown;
    b->arena_capacity = capacity;
  }
  entry.offset = b->arena_length;
  entry.length = (uint32_t)length;
  if (length > 0) memcpy(b->arena + b->arena_length, data, length);
  b->arena_length += length;
  b->queue[b->queue_length++] = entry;
  // Written during the delivery pass: sent once every socket's batch has been delivered.
  if (loop_state.delivering && !b->in_flush) {
    b->in_flush = 1;
    b->next_flush = loop_state.to_flush;
    loop_state.to_flush = b;
  }
  return int_result(env, (int)(b->queue_length - b->queue_sent));
}

static napi_value Flush(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  batch_t *b = unwrap(env, info, &argc, NULL);
  if (b == NULL) return NULL;
  if (b->closing) return int_result(env, 0);
  return int_result(env, flush(b));
}

static napi_value SendNow(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  batch_t *b = unwrap(env, info, &argc, argv);
  if (b == NULL) return NULL;
  if (b->closing) return int_result(env, -EBADF);
  uint8_t *data;
  size_t length;
  if (argc < 3 || payload(env, argv[0], &data, &length) != 0) {
    if (argc < 3) napi_throw_type_error(env, NULL, "udp-batch: sendNow(data, port, host)");
    return NULL;
  }
  if (length > MAX_PAYLOAD) return int_result(env, -EMSGSIZE);
  struct sockaddr_storage name;
  socklen_t name_length;
  int parsed = destination(env, b, argv[1], argv[2], &name, &name_length);
  if (parsed != 0) return int_result(env, parsed);
  struct iovec iov = {data, length};
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  if (name_length > 0) {
    m.msg_name = &name;
    m.msg_namelen = name_length;
  }
  ssize_t sent;
  do sent = sendmsg(b->fd, &m, 0);
  while (sent < 0 && errno == EINTR);
  return int_result(env, sent < 0 ? -errno : 0);
}

// counters_object builds { messages, datagrams, gsoMessages }.
static napi_value counters_object(napi_env env, double messages, double datagrams, double gso_messages) {
  napi_value result, value;
  CALL(env, napi_create_object(env, &result));
  napi_create_double(env, messages, &value);
  napi_set_named_property(env, result, "messages", value);
  napi_create_double(env, datagrams, &value);
  napi_set_named_property(env, result, "datagrams", value);
  napi_create_double(env, gso_messages, &value);
  napi_set_named_property(env, result, "gsoMessages", value);
  return result;
}

static napi_value Totals(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result = counters_object(env, totals.messages, totals.datagrams, totals.gso_messages);
  if (result == NULL) return NULL;
  napi_value value;
  napi_create_double(env, totals.received_messages, &value);
  napi_set_named_property(env, result, "receivedMessages", value);
  napi_create_double(env, totals.received_datagrams, &value);
  napi_set_named_property(env, result, "receivedDatagrams", value);
  return result;
}

static napi_value Stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  batch_t *b = unwrap(env, info, &argc, NULL);
  if (b == NULL) return NULL;
  napi_value result = counters_object(env, b->sent_messages, b->sent_datagrams, b->gso_messages);
  if (result == NULL) return NULL;
  napi_value value;
  napi_get_boolean(env, b->gso != 0, &value);
  napi_set_named_property(env, result, "gso", value);
  napi_get_boolean(env, b->gro != 0, &value);
  napi_set_named_property(env, result, "gro", value);
  napi_create_double(env, b->received_messages, &value);
  napi_set_named_property(env, result, "receivedMessages", value);
  napi_create_double(env, b->received_datagrams, &value);
  napi_set_named_property(env, result, "receivedDatagrams", value);
  return result;
}

// gso_supported asks the kernel whether it knows UDP_SEGMENT on this socket (Linux 4.18 and later).
static int gso_supported(int fd) {
  int value = 0;
  socklen_t length = sizeof value;
  return getsockopt(fd, SOL_UDP, UDP_SEGMENT, &value, &length) == 0;
}

// set_gro turns UDP_GRO on or off; returns 1 when it is on.
static int set_gro(int fd, int on) {
  return setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof on) == 0 && on;
}

// unwrap_switch is unwrap for a method that takes one boolean (`usage` is its error).
static batch_t *unwrap_switch(napi_env env, napi_callback_info info, bool *on, const char *usage) {
  size_t argc = 1;
  napi_value argv[1];
  batch_t *b = unwrap(env, info, &argc, argv);
  if (b == NULL) return NULL;
  if (argc < 1 || napi_get_value_bool(env, argv[0], on) != napi_ok) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  return b;
}

static napi_value SetGro(napi_env env, napi_callback_info info) {
  bool on = false;
  batch_t *b = unwrap_switch(env, info, &on, "udp-batch: setGro(on) takes a boolean");
  if (b == NULL) return NULL;
  if (b->closing) return int_result(env, 0);
  b->gro = set_gro(b->fd, on);
  return int_result(env, b->gro);
}

static napi_value SetGso(napi_env env, napi_callback_info info) {
  bool on = false;
  batch_t *b = unwrap_switch(env, info, &on, "udp-batch: setGso(on) takes a boolean");
  if (b == NULL) return NULL;
  b->gso = on && gso_supported(b->fd);
  if (on) {
    b->gso_proven = 0;
    b->gso_refused_size = 0;
  }
  return int_result(env, b->gso);
}

static napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  batch_t *b = unwrap(env, info, &argc, argv);
  if (b == NULL) return NULL;
  if (!b->closing) {
    napi_valuetype type = napi_undefined;
    if (argc >= 1) napi_typeof(env, argv[0], &type);
    if (type == napi_function) napi_create_reference(env, argv[0], 1, &b->on_closed);
    flush(b);  // what was queued in this turn still goes, as far as the kernel takes it at once
    start_close(b);
  }
  return NULL;
}

static napi_value New(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], self, target;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  CALL(env, napi_get_new_target(env, info, &target));
  if (target == NULL) {
    napi_throw_type_error(env, NULL, "udp-batch: use new UdpBatch(...)");
    return NULL;
  }
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "udp-batch: new UdpBatch(fd, batchSize, queueLimit, onReceive, onError)");
    return NULL;
  }
  int32_t fd, batch, limit;
  CALL(env, napi_get_value_int32(env, argv[0], &fd));
  CALL(env, napi_get_value_int32(env, argv[1], &batch));
  CALL(env, napi_get_value_int32(env, argv[2], &limit));
  napi_valuetype t3, t4;
  napi_typeof(env, argv[3], &t3);
  napi_typeof(env, argv[4], &t4);
  if (t3 != napi_function || t4 != napi_function) {
    napi_throw_type_error(env, NULL, "udp-batch: onReceive and onError must be functions");
    return NULL;
  }
  if (batch < 1 || batch > MAX_BATCH) {
    napi_throw_range_error(env, NULL, "udp-batch: batchSize must be 1 to 256");
    return NULL;
  }
  if (limit < 1 || limit > MAX_QUEUE) {
    napi_throw_range_error(env, NULL, "udp-batch: queueLimit must be 1 to 1048576");
    return NULL;
  }
  int type = 0;
  socklen_t type_length = sizeof type;
  struct sockaddr_storage local;
  socklen_t local_length = sizeof local;
  if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_length) != 0 || type != SOCK_DGRAM ||
      getsockname(fd, (struct sockaddr *)&local, &local_length) != 0 ||
      (local.ss_family != AF_INET && local.ss_family != AF_INET6)) {
    napi_throw_type_error(env, NULL, "udp-batch: fd is not a UDP socket");
    return NULL;
  }
  batch_t *b = calloc(1, sizeof *b);
  if (b == NULL) {
    napi_throw_error(env, NULL, "udp-batch: out of memory");
    return NULL;
  }
  b->env = env;
  b->batch = batch;
  b->queue_limit = (uint32_t)limit;
  b->family = local.ss_family;
  b->ring_size = (size_t)batch * SLOT;
  b->ring = mmap(NULL, b->ring_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  b->rmsgs = calloc((size_t)batch, sizeof *b->rmsgs);
  b->riov = calloc((size_t)batch, sizeof *b->riov);
  b->rnames = calloc((size_t)batch, sizeof *b->rnames);
  b->rcontrol = calloc((size_t)batch, sizeof *b->rcontrol);
  b->rsegment = calloc((size_t)batch, sizeof *b->rsegment);
  b->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (b->ring == MAP_FAILED || !b->rmsgs || !b->riov || !b->rnames || !b->rcontrol || !b->rsegment ||
      b->fd < 0) {
    int error = b->fd < 0 ? errno : ENOMEM;
    if (b->fd >= 0) close(b->fd);
    if (b->ring != MAP_FAILED) munmap(b->ring, b->ring_size);
    free(b->rmsgs);
    free(b->riov);
    free(b->rnames);
    free(b->rcontrol);
    free(b->rsegment);
    free(b);
    napi_throw_error(env, NULL, strerror(error));
    return NULL;
  }
  fcntl(b->fd, F_SETFL, fcntl(b->fd, F_GETFL) | O_NONBLOCK);
  b->gso = gso_supported(b->fd);
  b->gro = set_gro(b->fd, 1);
  prepare_receive(b);
  napi_value meta, resource_name;
  void *meta_data;
  uv_loop_t *loop;
  if (napi_create_arraybuffer(env, (size_t)batch * META_ENTRY, &meta_data, &meta) != napi_ok ||
      napi_create_string_utf8(env, "sockkit:UdpBatch", NAPI_AUTO_LENGTH, &resource_name) != napi_ok ||
      napi_async_init(env, self, resource_name, &b->async) != napi_ok ||
      napi_get_uv_event_loop(env, &loop) != napi_ok || loop_init(env, loop) != 0 ||
      uv_poll_init(loop, &b->poll, b->fd) != 0) {
    close(b->fd);
    munmap(b->ring, b->ring_size);
    free(b->rmsgs);
    free(b->riov);
    free(b->rnames);
    free(b->rcontrol);
    free(b->rsegment);
    free(b);
    napi_throw_error(env, NULL, "udp-batch: could not set up the socket");
    return NULL;
  }
  b->meta = meta_data;
  b->poll.data = b;
  napi_create_reference(env, meta, 1, &b->meta_ref);
  napi_create_reference(env, argv[3], 1, &b->on_receive);
  napi_create_reference(env, argv[4], 1, &b->on_error);
  napi_set_named_property(env, self, "meta", meta);
  // abi: what this build's JavaScript side must expect (2: onReceive(count, data, start) from a
  // delivery pass that sends what its callbacks queued). A stale build lacks it.
  napi_value abi;
  napi_create_int32(env, UDP_BATCH_ABI, &abi);
  napi_set_named_property(env, self, "abi", abi);
  if (napi_wrap(env, self, b, finalize, NULL, NULL) != napi_ok) {
    start_close(b);
    napi_throw_error(env, NULL, "udp-batch: could not wrap");
    return NULL;
  }
  if (set_poll(b) != 0) {
    start_close(b);
    napi_throw_error(env, NULL, "udp-batch: could not poll the socket");
    return NULL;
  }
  return self;
}

// attachSocketFilter: a classic BPF socket filter on any socket descriptor, for sockkit's raw
// sockets (their addon neither attaches one nor exposes its descriptor; sockkit finds it).
//
//   attachSocketFilter(fd, program, discardQueued)
//     program        struct sock_filter instructions, 8 bytes each in host byte order
//     discardQueued  then discard, uncopied, the datagrams queued before the filter, so that every
//                    later read passed it (stops at an empty one). Only on a socket nothing reads
//                    yet: a reader woken for a datagram discarded here would find none.
//   returns          the count discarded, or -errno from setsockopt (the filter is then not set)
#include <linux/filter.h>

// DISCARD_LIMIT bounds the discarding loop, above what any queue sockkit asks for holds (16 MiB
// of skbs of at least 768 bytes each: about 22,000).
#define DISCARD_LIMIT 65536

static napi_value AttachSocketFilter(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd = -1;
  bool is_buffer = false, discard = false;
  if (argc < 3 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 ||
      napi_is_buffer(env, argv[1], &is_buffer) != napi_ok || !is_buffer ||
      napi_get_value_bool(env, argv[2], &discard) != napi_ok) {
    napi_throw_type_error(env, NULL,
                          "udp-batch: attachSocketFilter takes an fd, a Buffer and a boolean");
    return NULL;
  }
  void *data;
  size_t length;
  CALL(env, napi_get_buffer_info(env, argv[1], &data, &length));
  if (length == 0 || length % sizeof(struct sock_filter) != 0 ||
      length / sizeof(struct sock_filter) > BPF_MAXINSNS) {
    napi_throw_range_error(env, NULL,
                           "udp-batch: a filter program is 1 to 4096 instructions of 8 bytes");
    return NULL;
  }
  struct sock_fprog program = {.len = (unsigned short)(length / sizeof(struct sock_filter)),
                               .filter = data};
  int32_t outcome = 0;
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) != 0) {
    outcome = -errno;
  } else if (discard) {
    while (outcome < DISCARD_LIMIT && recv(fd, NULL, 0, MSG_DONTWAIT | MSG_TRUNC) > 0) {
      outcome += 1;
    }
  }
  CALL(env, napi_create_int32(env, outcome, &result));
  return result;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"enqueue", NULL, Enqueue, NULL, NULL, NULL, napi_default, NULL},
      {"flush", NULL, Flush, NULL, NULL, NULL, napi_default, NULL},
      {"sendNow", NULL, SendNow, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, Close, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, Stats, NULL, NULL, NULL, napi_default, NULL},
      {"setGso", NULL, SetGso, NULL, NULL, NULL, napi_default, NULL},
      {"setGro", NULL, SetGro, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value cls, constants;
  CALL(env, napi_define_class(env, "UdpBatch", NAPI_AUTO_LENGTH, New, NULL, 7, methods, &cls));
  CALL(env, napi_set_named_property(env, exports, "UdpBatch", cls));
  CALL(env, napi_create_object(env, &constants));
  napi_value value;
  napi_create_int32(env, META_ENTRY, &value);
  napi_set_named_property(env, constants, "META_ENTRY", value);
  napi_create_int32(env, META_TEXT, &value);
  napi_set_named_property(env, constants, "META_TEXT", value);
  napi_create_int32(env, NOT_LITERAL, &value);
  napi_set_named_property(env, constants, "NOT_LITERAL", value);
  napi_create_int32(env, MAX_BATCH, &value);
  napi_set_named_property(env, constants, "MAX_BATCH", value);
  CALL(env, napi_set_named_property(env, exports, "constants", constants));
  napi_value attach;
  CALL(env, napi_create_function(env, "attachSocketFilter", NAPI_AUTO_LENGTH, AttachSocketFilter,
                                 NULL, &attach));
  CALL(env, napi_set_named_property(env, exports, "attachSocketFilter", attach));
  napi_value totals_function;
  CALL(env, napi_create_function(env, "totals", NAPI_AUTO_LENGTH, Totals, NULL, &totals_function));
  CALL(env, napi_set_named_property(env, exports, "totals", totals_function));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
