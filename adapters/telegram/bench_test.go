package telegram_test

import (
	"context"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboard-bots/switchboard/bots/echo"
)

// BenchmarkEcho measures updates per second end to end: the fake queues
// b.N messages over 1,000 chats, and the clock stops when the fake has
// answered b.N sendMessage calls. "adapter" is this package with the echo
// bot and limits lifted; "handloop" is a hand-written loop with the
// library the adapter builds on (go-telegram-bot-api) doing the same echo
// on the same fake: getUpdates, then one worker per chat shard making the
// same sendMessage call (the same form), as a bot author would write it.
// The adapter makes its form calls itself rather than through the
// library's MakeRequest. The hand loop confirms each update as soon as it
// is fetched, so it may have any number in flight; the adapter confirms an
// update only once handled, so at most a poll's limit (100) is in flight,
// and every poll carries them all again. cpu-µs/update is the process's
// CPU time per update, the fake's share included in both;
// polls/1k-updates counts getUpdates calls.
func BenchmarkEcho(b *testing.B) {
	b.Run("adapter", func(b *testing.B) { benchEcho(b, runAdapter) })
	b.Run("handloop", func(b *testing.B) { benchEcho(b, runHandLoop) })
}

func benchEcho(b *testing.B, run func(testing.TB, *telegramtest.Server) (stop func())) {
	srv := telegramtest.New(b, telegramtest.WithoutRecording())
	const chats = 1000
	for i := range b.N {
		srv.Text(int64(1+i%chats), int64(1+i%chats), "hello")
	}
	cpu0 := cpuTime()
	b.ResetTimer()
	start := time.Now()
	stop := run(b, srv)
	if err := srv.AwaitSent(b.N, 5*time.Minute); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cpu := cpuTime() - cpu0
	stop()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "updates/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/update")
	b.ReportMetric(float64(len(srv.Calls("getUpdates")))*1000/float64(b.N), "polls/1k-updates")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func runAdapter(tb testing.TB, srv *telegramtest.Server) func() {
	cfg := testConfig(srv)
	cfg.Polling.Timeout = time.Second
	a, _ := newAdapter(tb, cfg)
	r := start(tb, a, echo.New())
	return func() { r.stop(tb) }
}

func runHandLoop(tb testing.TB, srv *telegramtest.Server) func() {
	const workers = 64 // as many as the adapter's max_inflight
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = workers + 2
	bot, err := tgbotapi.NewBotAPIWithClient(srv.Token(), srv.Endpoint(), &http.Client{Transport: tr})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	shards := make([]chan tgbotapi.Message, workers)
	for i := range shards {
		shards[i] = make(chan tgbotapi.Message, 64)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range shards[i] {
				reply := tgbotapi.NewMessage(m.Chat.ID, "You said: "+m.Text)
				reply.ReplyToMessageID = m.MessageID
				reply.AllowSendingWithoutReply = true
				// Request, not Send: Send also decodes the sent message,
				// which the adapter's echo has no use for and never decodes.
				if _, err := bot.Request(reply); err != nil {
					tb.Error(err)
				}
			}
		}()
	}
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		offset := 0
		for ctx.Err() == nil {
			ups, err := bot.GetUpdates(tgbotapi.UpdateConfig{Offset: offset, Limit: 100, Timeout: 1})
			if err != nil {
				tb.Error(err)
				return
			}
			for _, u := range ups {
				offset = u.UpdateID + 1
				if u.Message != nil {
					shards[u.Message.Chat.ID%workers] <- *u.Message
				}
			}
		}
	}()
	return func() {
		cancel()
		<-polled // the library's poll has no context: it ends at its timeout
		for _, s := range shards {
			close(s)
		}
		wg.Wait()
		tr.CloseIdleConnections()
	}
}
