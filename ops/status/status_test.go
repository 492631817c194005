package status_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-bots/switchboard/internal/clocktest"
	"github.com/switchboard-bots/switchboard/ops"
	"github.com/switchboard-bots/switchboard/ops/status"
	"github.com/switchboard-bots/switchboard/scope"
)

// gatherer serves the metric families it holds, as a registry would.
type gatherer struct{ mfs []*dto.MetricFamily }

func (g *gatherer) Gather() ([]*dto.MetricFamily, error) { return g.mfs, nil }

// latency sets the cumulative counts of a handler latency histogram with
// buckets of 1ms, 10ms and 100ms for protocol, and layer errors.
func (g *gatherer) set(protocol string, cumulative [3]uint64, total uint64, sumSeconds float64, layerErrs uint64) {
	var buckets []*dto.Bucket
	for i, b := range []float64{0.001, 0.01, 0.1} {
		buckets = append(buckets, &dto.Bucket{UpperBound: proto.Float64(b), CumulativeCount: proto.Uint64(cumulative[i])})
	}
	g.mfs = []*dto.MetricFamily{
		{Name: proto.String("switchboard_handler_seconds"), Type: dto.MetricType_HISTOGRAM.Enum(), Metric: []*dto.Metric{{
			Label:     []*dto.LabelPair{{Name: proto.String("protocol"), Value: proto.String(protocol)}},
			Histogram: &dto.Histogram{SampleCount: proto.Uint64(total), SampleSum: proto.Float64(sumSeconds), Bucket: buckets},
		}}},
		{Name: proto.String("switchboard_layer_errors_total"), Type: dto.MetricType_COUNTER.Enum(), Metric: []*dto.Metric{
			{Label: []*dto.LabelPair{{Name: proto.String("op"), Value: proto.String("send")}, {Name: proto.String("kind"), Value: proto.String("channel_full")}},
				Counter: &dto.Counter{Value: proto.Float64(float64(layerErrs))}},
			{Label: []*dto.LabelPair{{Name: proto.String("op"), Value: proto.String("group_send")}, {Name: proto.String("kind"), Value: proto.String("channel_full")}},
				Counter: &dto.Counter{Value: proto.Float64(1)}},
		}},
	}
}

// TestSampleShowsWhatTheSourcesSay drives traffic through the Traffic
// middleware and moves a fake clock: the sample has each adapter's state,
// rates over the last interval, history, fill against its bound, its log
// lines, the latency percentiles of the window, the stuck handlers and the
// layer's failures.
func TestSampleShowsWhatTheSourcesSay(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	tr := status.NewTraffic()
	tap := status.NewLogTap(status.LogTapOptions{})
	ws, tg := newRunner("websocket"), newRunner("telegram")
	close(ws.ready)
	health := &checker{names: []string{"websocket", "websocket handlers", "telegram", "telegram handlers", "layer"}}
	health.failed = []ops.Failure{{Name: "telegram", Err: errors.New("not connected yet")}}
	g := &gatherer{}
	g.set("telegram", [3]uint64{0, 0, 0}, 0, 0, 0)
	st := status.New(status.Sources{
		Adapters: func() []status.Adapter {
			return []status.Adapter{
				{Runner: ws, Kind: "websocket", Protocols: []string{"websocket", "http"}, MaxScopes: 200, Detail: "listening on 127.0.0.1:1"},
				{Runner: tg, Kind: "telegram", Protocols: []string{"telegram"}, MaxScopes: 0},
			}
		},
		Traffic: tr, Logs: tap, Health: health, Metrics: g,
		Slow:  slowWatcher{running: []ops.RunningHandler{{Adapter: "telegram", Key: "42", Event: "telegram.message", For: 95 * time.Second}}},
		Layer: status.Layer{Backend: "redis", Detail: "mode single, key prefix asgi", Shared: true},
	}, status.Options{Now: clk.Now, History: 3, Window: 2, Process: &status.Process{Host: "h", PID: 7}})

	first := st.Sample(context.Background())
	if first.Ready || first.Adapters[1].State != "starting" || first.Adapters[0].State != "serving" {
		t.Fatalf("first sample: ready %v, states %q/%q; want not ready, websocket serving, telegram starting",
			first.Ready, first.Adapters[0].State, first.Adapters[1].State)
	}
	if r := first.Adapters[1].Reasons; len(r) != 1 || r[0] != "telegram: not connected yet" {
		t.Fatalf("telegram's reasons: %q", r)
	}

	app := tr.Middleware()(echoApp())
	inst, err := app.NewInstance(context.Background(), &scope.Scope{Type: "websocket", Adapter: "websocket", Key: "c1"}, nopConn{})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		_ = inst.Handle(context.Background(), ping{})
	}
	ws.setLen(50)
	close(tg.ready)
	health.mu.Lock()
	health.failed = []ops.Failure{{Name: "telegram handlers", Err: errors.New("9 of max_scopes 10 conversations are held")},
		{Name: "layer", Err: errors.New("OOM command not allowed")}}
	health.mu.Unlock()
	tap.Handler(discard{}).Handle(context.Background(), record("telegram: getUpdates failed; retrying", "telegram", clk.Now()))
	// 100 events in the window: 50 under 1ms, 40 under 10ms, 10 under 100ms.
	g.set("telegram", [3]uint64{50, 90, 100}, 100, 1.5, 3)
	clk.Advance(2 * time.Second)

	s := st.Sample(context.Background())
	w := s.Adapters[0]
	if w.In != 10 || w.Out != 10 || w.InRate != 5 || w.OutRate != 5 {
		t.Fatalf("websocket: in %d out %d, %v/s and %v/s; want 10 each, 5/s over the 2s", w.In, w.Out, w.InRate, w.OutRate)
	}
	if w.Scopes != 50 || w.MaxScopes != 200 || w.Fill != 0.25 || w.Detail != "listening on 127.0.0.1:1" {
		t.Fatalf("websocket: scopes %d/%d fill %v detail %q", w.Scopes, w.MaxScopes, w.Fill, w.Detail)
	}
	tgs := s.Adapters[1]
	if tgs.State != "not ready" || len(tgs.Reasons) != 1 || !strings.Contains(tgs.Reasons[0], "telegram handlers: 9 of max_scopes") {
		t.Fatalf("telegram: %q %q, want not ready for its handlers", tgs.State, tgs.Reasons)
	}
	if tgs.Problem == nil || tgs.Problem.Message != "telegram: getUpdates failed; retrying" || tgs.Problems != 1 || !tgs.Problem.Time.Equal(clk.Now().Add(-2*time.Second)) {
		t.Fatalf("telegram's last problem: %+v", tgs.Problem)
	}
	if len(s.Latency) != 1 {
		t.Fatalf("latency: %+v", s.Latency)
	}
	l := s.Latency[0]
	if l.Protocol != "telegram" || l.Count != 100 || l.WindowS != 2 || *l.P50MS != 1 || *l.P90MS != 10 || *l.P99MS != 91 || *l.MeanMS != 15 {
		t.Fatalf("latency: %+v p50 %v p90 %v p99 %v mean %v; want 100 events over 2s, 1ms, 10ms, 91ms, 15ms",
			l, *l.P50MS, *l.P90MS, *l.P99MS, *l.MeanMS)
	}
	if s.Layer.OK || s.Layer.Error != "OOM command not allowed" || s.Layer.Errors["channel_full"] != 4 {
		t.Fatalf("layer: %+v, want failing with the check's error and 4 channel_full", s.Layer)
	}
	if len(s.Slow.Running) != 1 || s.Slow.Running[0].Key != "42" || s.Slow.Running[0].ForMS != 95000 || s.Slow.ThresholdMS != 30000 {
		t.Fatalf("slow: %+v", s.Slow)
	}
	if !s.Cluster.Shared || !strings.Contains(s.Cluster.Note, "no owner process yet") {
		t.Fatalf("cluster: %+v", s.Cluster)
	}
	var checks []string
	for _, c := range s.Checks {
		checks = append(checks, c.Name+"="+map[bool]string{true: "ok", false: "failing"}[c.OK])
	}
	if got := strings.Join(checks, " "); got != "websocket=ok websocket handlers=ok telegram=ok telegram handlers=failing layer=failing" {
		t.Fatalf("checks: %s", got)
	}

	// No traffic for two more samples: the rates fall to zero, and the
	// history keeps the last three, oldest first.
	for range 3 {
		clk.Advance(time.Second)
		s = st.Sample(context.Background())
	}
	if h := s.Adapters[0].InHistory; len(h) != 3 || h[0] != 0 || h[2] != 0 || s.Adapters[0].InRate != 0 {
		t.Fatalf("history %v, rate %v: want three zero samples once traffic stopped", h, s.Adapters[0].InRate)
	}
	// The window (2 samples) no longer holds the 100 events.
	if l := s.Latency[0]; l.Count != 0 || l.P50MS != nil || l.Total != 100 {
		t.Fatalf("latency once idle: %+v, want none in the window, 100 in all", l)
	}
}

// TestSampleForgetsAnAdapterThatIsGone: an adapter no longer running
// leaves the page, and one of the same name that comes back starts a new
// history.
func TestSampleForgetsAnAdapterThatIsGone(t *testing.T) {
	clk := clocktest.New(time.Unix(0, 0))
	a := newRunner("irc")
	close(a.ready)
	running := []status.Adapter{{Runner: a, Kind: "irc"}}
	st := status.New(status.Sources{Adapters: func() []status.Adapter { return running }},
		status.Options{Now: clk.Now, Process: &status.Process{}})
	st.Sample(context.Background())
	clk.Advance(time.Second)
	if s := st.Sample(context.Background()); len(s.Adapters) != 1 || len(s.Adapters[0].InHistory) != 1 {
		t.Fatalf("adapters: %+v", s.Adapters)
	}
	running = nil
	clk.Advance(time.Second)
	if s := st.Sample(context.Background()); len(s.Adapters) != 0 {
		t.Fatalf("a stopped adapter is still shown: %+v", s.Adapters)
	}
	running = []status.Adapter{{Runner: a, Kind: "irc"}}
	clk.Advance(time.Second)
	if s := st.Sample(context.Background()); len(s.Adapters[0].InHistory) != 0 {
		t.Fatalf("a restarted adapter kept its old history: %v", s.Adapters[0].InHistory)
	}
}

// TestSampleMasksCheckErrors: a readiness check's error may quote what a
// backend said; the page shows it masked.
func TestSampleMasksCheckErrors(t *testing.T) {
	health := &checker{names: []string{"layer"}, failed: []ops.Failure{{Name: "layer", Err: errors.New("dial redis://:hunter2@10.0.0.1:6379: refused")}}}
	st := status.New(status.Sources{Health: health}, status.Options{Process: &status.Process{},
		Redact: func(s string) string { return strings.ReplaceAll(s, "hunter2", "[redacted]") }})
	s := st.Sample(context.Background())
	if s.Layer.OK || s.Layer.Error != "dial redis://:[redacted]@10.0.0.1:6379: refused" || s.Checks[0].Error != s.Layer.Error {
		t.Fatalf("layer %+v, checks %+v: want the error masked", s.Layer, s.Checks)
	}
	if strings.Contains(string(st.JSON()), "hunter2") {
		t.Fatalf("the JSON shows the secret: %s", st.JSON())
	}
}
