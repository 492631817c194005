package ops

import (
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// unknown stands in for an empty protocol or reason, so that no series has
// a blank label that reads like a bug on a dashboard.
const unknown = "unknown"

// Metrics holds the collectors of a bot server. Make one with NewMetrics
// and share it: all its methods are safe for concurrent use.
type Metrics struct {
	eventsIn    *prometheus.CounterVec // protocol, type
	eventsOut   *prometheus.CounterVec // protocol, type
	live        *prometheus.GaugeVec   // protocol
	ends        *prometheus.CounterVec // protocol, reason
	handler     *latencyVec            // protocol
	handlerErrs *prometheus.CounterVec // protocol
	layerErrs   *prometheus.CounterVec // op, kind
	layerDrops  *prometheus.CounterVec // type, reason
	skipped     *prometheus.CounterVec // group
	retries     *prometheus.CounterVec // adapter
	rateWait    *prometheus.CounterVec // adapter
	refused     *prometheus.CounterVec // listener, reason
	inDrops     *prometheus.CounterVec // adapter, reason

	// epoch is when the Metrics were made. Handle times events as
	// durations since epoch, which reads only the monotonic clock: half
	// the cost of time.Now, which reads the wall clock too, and on the
	// event path the clock is the largest cost there is.
	epoch time.Time

	// protocols caches a *protocolMetrics per protocol, so that a new
	// scope finds its label children with one map lookup and the event
	// path never hashes label values.
	protocols sync.Map
}

// NewMetrics makes the collectors and registers them on reg. It takes a
// Registerer rather than the global default so that the caller decides
// where they go: a *prometheus.Registry of its own, or one wrapped with
// prometheus.WrapRegistererWith to add constant labels. It fails when reg
// is nil or already holds collectors of the same names.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	if reg == nil {
		return nil, errors.New("ops: NewMetrics: nil registerer")
	}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "switchboard", Name: name, Help: help,
		}, labels)
	}
	m := &Metrics{
		epoch: time.Now(),
		eventsIn: counter("events_in_total",
			"Events handed to application instances, by protocol and event type.",
			"protocol", "type"),
		eventsOut: counter("events_out_total",
			"Events application instances sent to their adapters, by protocol and event type.",
			"protocol", "type"),
		live: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "switchboard", Name: "scopes_live",
			Help: "Scopes with a live application instance, by protocol.",
		}, []string{"protocol"}),
		ends: counter("scope_ends_total",
			"Scopes that ended, by protocol and the reason of their final event.",
			"protocol", "reason"),
		handler: newLatencyVec("switchboard_handler_seconds",
			"Time instances spent handling one event, by protocol."),
		handlerErrs: counter("handler_errors_total",
			"Events whose handler returned an error or panicked, by protocol.",
			"protocol"),
		layerErrs: counter("layer_errors_total",
			"Channel layer operations that failed, by operation and kind of failure "+
				"(error, channel_full, closed, canceled).",
			"op", "kind"),
		layerDrops: counter("layer_messages_dropped_total",
			"Layer messages consumers dropped because they could not handle them or keep up with them, by message type "+
				"and reason (no_handler, undecodable, backlog_full, send_failed; for conversation channels also no_conversation, no_adapter, not_serving).",
			"type", "reason"),
		skipped: counter("layer_group_skipped_total",
			"Deliveries group sends skipped because the member's channel was full, by group "+
				"(the first 100 groups by name, then \"other\").",
			"group"),
		retries: counter("outbound_retries_total",
			"Platform requests an adapter retried, by adapter.",
			"adapter"),
		rateWait: counter("rate_limit_wait_seconds_total",
			"Time adapters waited for platform rate limits, by adapter.",
			"adapter"),
		refused: counter("listener_refused_total",
			"Connections and requests a bounded listener refused at once, by listener (the adapter's "+
				"name, or ops) and reason (max_conns, max_conns_per_client, body_budget).",
			"listener", "reason"),
		inDrops: counter("inbound_dropped_total",
			"Inbound events an adapter let go because its platform does not send them again (IRC, XMPP, "+
				"Discord's gateway), by adapter and reason (inbox_full, unfit).",
			"adapter", "reason"),
	}
	for _, c := range []prometheus.Collector{
		m.eventsIn, m.eventsOut, m.live, m.ends, m.handler, m.handlerErrs,
		m.layerErrs, m.layerDrops, m.skipped, m.retries, m.rateWait, m.refused, m.inDrops,
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// OutboundRetry counts one retried platform request of adapter. Adapters
// take it as a hook (a func(string)); it does nothing on a nil *Metrics so
// that an adapter can call it unconditionally.
func (m *Metrics) OutboundRetry(adapter string) {
	if m == nil {
		return
	}
	m.retries.WithLabelValues(adapter).Inc()
}

// RateLimitWait adds d to the time adapter waited for a rate limit. Waits
// of zero or less are ignored; like OutboundRetry it does nothing on a nil
// *Metrics.
func (m *Metrics) RateLimitWait(adapter string, d time.Duration) {
	if m == nil || d <= 0 {
		return
	}
	m.rateWait.WithLabelValues(adapter).Add(d.Seconds())
}

// ListenRefused counts a connection or request that listener refused for
// reason; it does nothing on a nil *Metrics. It makes *Metrics an
// adapters.ListenObserver, through which bounded listeners report.
func (m *Metrics) ListenRefused(listener, reason string) {
	if m == nil {
		return
	}
	m.refused.WithLabelValues(listener, reason).Inc()
}

// InboundDropped counts an inbound event adapter let go for reason; it
// does nothing on a nil *Metrics. It makes *Metrics an
// adapters.DropObserver, through which Intake.Drop reports.
func (m *Metrics) InboundDropped(adapter, reason string) {
	if m == nil {
		return
	}
	m.inDrops.WithLabelValues(adapter, reason).Inc()
}

// LayerMessageDropped counts a layer message a consumer dropped; it does
// nothing on a nil *Metrics. It makes *Metrics a consumer.DropObserver
// (give it with consumer.ObserveDrops), which bounds the types it reports.
func (m *Metrics) LayerMessageDropped(typ, reason string) {
	if m == nil {
		return
	}
	m.layerDrops.WithLabelValues(typ, reason).Inc()
}

// GroupSendSkipped counts deliveries a group send skipped because the
// members' channels were full; it does nothing on a nil *Metrics. It makes
// *Metrics a layer.SkipObserver, which bounds the groups it reports.
func (m *Metrics) GroupSendSkipped(group string, skipped int) {
	if m == nil {
		return
	}
	m.skipped.WithLabelValues(group).Add(float64(skipped))
}

// clock returns the monotonic time since m was made.
func (m *Metrics) clock() time.Duration { return time.Since(m.epoch) }

// protocolMetrics holds the label children of one protocol, resolved once.
type protocolMetrics struct {
	m           *Metrics
	protocol    string
	live        prometheus.Gauge
	handler     *latency
	handlerErrs prometheus.Counter
	in, out     typeCounters
}

// forProtocol returns the children for protocol, making them on first use.
func (m *Metrics) forProtocol(protocol string) *protocolMetrics {
	if protocol == "" {
		protocol = unknown
	}
	if pm, ok := m.protocols.Load(protocol); ok {
		return pm.(*protocolMetrics)
	}
	pm := &protocolMetrics{
		m:           m,
		protocol:    protocol,
		live:        m.live.WithLabelValues(protocol),
		handler:     m.handler.child(protocol),
		handlerErrs: m.handlerErrs.WithLabelValues(protocol),
		in:          typeCounters{vec: m.eventsIn, protocol: protocol},
		out:         typeCounters{vec: m.eventsOut, protocol: protocol},
	}
	got, _ := m.protocols.LoadOrStore(protocol, pm)
	return got.(*protocolMetrics)
}

// ended counts the end of a scope of this protocol.
func (pm *protocolMetrics) ended(reason string) {
	if reason == "" {
		reason = unknown
	}
	pm.m.ends.WithLabelValues(pm.protocol, reason).Inc()
	pm.live.Dec()
}

// typeCounters caches the counter of each event type of one protocol. The
// set of event types is fixed by the code (handlers and adapters), so the
// cache stays small and never needs evicting.
type typeCounters struct {
	vec      *prometheus.CounterVec
	protocol string
	byType   sync.Map // event type → prometheus.Counter
}

func (tc *typeCounters) get(typ string) prometheus.Counter {
	if c, ok := tc.byType.Load(typ); ok {
		return c.(prometheus.Counter)
	}
	c, _ := tc.byType.LoadOrStore(typ, tc.vec.WithLabelValues(tc.protocol, typ))
	return c.(prometheus.Counter)
}
