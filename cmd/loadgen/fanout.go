package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gorilla "github.com/gorilla/websocket"
)

// protocol is how a client speaks to one kind of group-messaging server:
// the room bot's, or centrifuge's.
type protocol interface {
	name() string
	// selfDelivery reports whether a sender receives its own message.
	selfDelivery() bool
	// join connects a member to the server at addr and returns once the
	// member is in room: a message sent to room after that reaches it.
	join(addr, room string) (*peer, error)
	// publish sends text to room from m.
	publish(m *peer, room, text string) error
	// texts calls each with the text of every message in a frame m read.
	texts(m *peer, frame []byte, each func(string)) error
}

// peer is one client connection in a room.
type peer struct {
	c      *gorilla.Conn
	mu     sync.Mutex // writes: the sender's and, for centrifuge, pongs
	nextID int        // the last command id (centrifuge)
}

func (m *peer) write(b []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.c.WriteMessage(gorilla.TextMessage, b)
}

// fanoutSpec is one group-messaging run: members in rooms, some of whom
// send at a steady rate, every member of a room receiving each message.
type fanoutSpec struct {
	members  int           // members of the rooms that are sent to
	roomSize int           // members per room; rooms of a spread over the servers
	senders  int           // members per room that send (1 to roomSize)
	idle     int           // members of rooms of roomSize that nobody sends to
	sends    float64       // messages per second, every sender together
	duration time.Duration // how long the senders send
	size     int           // message bytes (at least the time stamp and sequence number)
	// drain is how long the run waits, after the last send, for the
	// deliveries still on their way, counted from the last one received.
	drain time.Duration
	// pids are the server processes whose CPU time is taken.
	pids []int
	// midway, when set, is called once halfway through the sending.
	midway func()
}

// fanoutResult is what a run measured.
type fanoutResult struct {
	sent, expected, received int64
	broken                   int64         // connections that failed, or that the servers closed, during the run
	reason                   string        // why the first of them did
	elapsed                  time.Duration // sending and draining
	sendRate                 float64       // messages sent per second
	deliveryRate             float64       // deliveries per second
	p50, p99                 time.Duration // from the send time in the payload to its receipt
	cpu                      time.Duration // the server processes' user and system time over elapsed
}

// lost is how many deliveries never arrived.
func (r fanoutResult) lost() int64 { return max(0, r.expected-r.received) }

// cpuPerDelivery is the servers' CPU time per delivery received.
func (r fanoutResult) cpuPerDelivery() time.Duration {
	if r.received == 0 {
		return 0
	}
	return r.cpu / time.Duration(r.received)
}

// roomName is the name of room i, or of idle room i.
func roomName(i int, idle bool) string {
	if idle {
		return "idle" + strconv.Itoa(i)
	}
	return "r" + strconv.Itoa(i)
}

// fanoutRun runs spec with the client speaking p: member k connects to
// addrs[k % len(addrs)], so that every room spans the servers.
func fanoutRun(p protocol, addrs []string, spec fanoutSpec) (fanoutResult, error) {
	if spec.roomSize < 2 || spec.members < spec.roomSize || spec.senders < 1 || spec.senders > spec.roomSize || spec.sends <= 0 {
		return fanoutResult{}, fmt.Errorf("fan-out run: %d members in rooms of %d with %d senders each at %v/s is not a run",
			spec.members, spec.roomSize, spec.senders, spec.sends)
	}
	rooms := spec.members / spec.roomSize
	idleRooms := spec.idle / spec.roomSize
	n := (rooms + idleRooms) * spec.roomSize
	roomOf := func(k int) string {
		if r := k / spec.roomSize; r < rooms {
			return roomName(r, false)
		} else {
			return roomName(r-rooms, true)
		}
	}
	members, err := joinMany(p, n, func(k int) (string, string) { return addrs[k%len(addrs)], roomOf(k) })
	if err != nil {
		return fanoutResult{}, err
	}

	var (
		received atomic.Int64
		closing  atomic.Bool  // the run is over: the client closes the connections
		broken   atomic.Int64 // connections that failed or were closed before that
		why      sync.Once    // the first of them, in words
		reason   string
		lat      = make([][]time.Duration, n)
		readers  sync.WaitGroup
	)
	for k, m := range members {
		readers.Go(func() {
			own := make([]time.Duration, 0, 256)
			count := func(text string) {
				stamp, _, _ := strings.Cut(text, " ")
				ns, err := strconv.ParseInt(stamp, 10, 64)
				if err != nil {
					return
				}
				own = append(own, time.Since(time.Unix(0, ns)))
				received.Add(1)
			}
			for {
				_, frame, err := m.c.ReadMessage()
				if err == nil {
					err = p.texts(m, frame, count)
				}
				if err != nil {
					if !closing.Load() {
						why.Do(func() { reason = fmt.Sprintf("member %d in %s: %v", k, roomOf(k), err) })
						broken.Add(1)
						m.c.Close() // its sender, if any, stops too
					}
					break
				}
			}
			lat[k] = own
		})
	}
	closeMembers := func() {
		closing.Store(true)
		for _, m := range members {
			_ = m.c.Close()
		}
		readers.Wait()
	}

	perSend := int64(spec.roomSize - 1)
	if p.selfDelivery() {
		perSend++
	}
	nSenders := rooms * spec.senders
	interval := time.Duration(float64(time.Second) * float64(nSenders) / spec.sends)
	pad := strings.Repeat("x", max(0, spec.size))
	var (
		sent, expected atomic.Int64
		senders        sync.WaitGroup
		stop           = make(chan struct{})
	)
	cpu0, err := cpuTimes(spec.pids)
	if err != nil {
		closeMembers()
		return fanoutResult{}, err
	}
	start := time.Now()
	for s := range nSenders {
		room, k := s/spec.senders, (s/spec.senders)*spec.roomSize+s%spec.senders
		senders.Go(func() {
			// Senders start spread over one interval, so that their
			// sends interleave instead of arriving together.
			select {
			case <-time.After(interval * time.Duration(s) / time.Duration(nSenders)):
			case <-stop:
				return
			}
			t := time.NewTicker(interval)
			defer t.Stop()
			for seq := 0; ; seq++ {
				stamp := strconv.FormatInt(time.Now().UnixNano(), 10) + " " + strconv.Itoa(seq) + " "
				text := stamp + pad[min(len(stamp), len(pad)):]
				// Expected first: a delivery may be counted before the
				// send returns.
				expected.Add(perSend)
				if err := p.publish(members[k], roomName(room, false), text); err != nil {
					expected.Add(-perSend) // the connection broke: its reader counts it
					return
				}
				sent.Add(1)
				select {
				case <-t.C:
				case <-stop:
					return
				}
			}
		})
	}
	if spec.midway != nil {
		time.Sleep(time.Until(start.Add(spec.duration / 2)))
		spec.midway()
	}
	time.Sleep(time.Until(start.Add(spec.duration)))
	close(stop)
	senders.Wait()
	sendEnd := time.Now()
	awaitDeliveries(&received, expected.Load(), spec.drain)
	elapsed := time.Since(start)
	cpu1, err := cpuTimes(spec.pids)
	closeMembers()
	if err != nil {
		return fanoutResult{}, err
	}
	all := slices.Concat(lat...)
	sum := summarize(all, elapsed)
	r := fanoutResult{
		sent: sent.Load(), expected: expected.Load(), received: received.Load(), broken: broken.Load(), reason: reason,
		elapsed: elapsed, p50: sum.p50, p99: sum.p99, cpu: cpu1 - cpu0,
		sendRate: float64(sent.Load()) / sendEnd.Sub(start).Seconds(),
	}
	r.deliveryRate = float64(r.received) / sendEnd.Sub(start).Seconds()
	return r, nil
}

// awaitDeliveries waits until received reaches want, or until none has
// arrived for quiet.
func awaitDeliveries(received *atomic.Int64, want int64, quiet time.Duration) {
	const poll = 10 * time.Millisecond
	last, lastAt := received.Load(), time.Now()
	for last < want && time.Since(lastAt) < quiet {
		time.Sleep(poll)
		if n := received.Load(); n != last {
			last, lastAt = n, time.Now()
		}
	}
}

// joinMany opens n members, 64 at a time: member k joins the room and
// server where says.
func joinMany(p protocol, n int, where func(k int) (addr, room string)) ([]*peer, error) {
	members := make([]*peer, n)
	var (
		next  atomic.Int64
		first error
		once  sync.Once
		wg    sync.WaitGroup
	)
	for range min(64, n) {
		wg.Go(func() {
			for k := int(next.Add(1)) - 1; k < n; k = int(next.Add(1)) - 1 {
				addr, room := where(k)
				m, err := p.join(addr, room)
				if err != nil {
					once.Do(func() { first = fmt.Errorf("%s member %d: %w", p.name(), k, err) })
					next.Store(int64(n)) // stop the others
					return
				}
				members[k] = m
			}
		})
	}
	wg.Wait()
	if first != nil {
		for _, m := range members {
			if m != nil {
				_ = m.c.Close()
			}
		}
		return nil, first
	}
	return members, nil
}
