package ops

import "github.com/prometheus/client_golang/prometheus"

// Accessors for tests to read single series with testutil.ToFloat64.

func (m *Metrics) LiveScopes(protocol string) prometheus.Gauge {
	return m.live.WithLabelValues(protocol)
}

func (m *Metrics) HandlerErrors(protocol string) prometheus.Counter {
	return m.handlerErrs.WithLabelValues(protocol)
}

func (m *Metrics) EventsIn(protocol, typ string) prometheus.Counter {
	return m.eventsIn.WithLabelValues(protocol, typ)
}

func (m *Metrics) EventsOut(protocol, typ string) prometheus.Counter {
	return m.eventsOut.WithLabelValues(protocol, typ)
}

func (m *Metrics) LayerErrors(op, kind string) prometheus.Counter {
	return m.layerErrs.WithLabelValues(op, kind)
}

func (m *Metrics) SkippedFor(group string) prometheus.Counter {
	return m.skipped.WithLabelValues(group)
}
