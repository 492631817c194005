package telegram_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/adapters/telegram"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboard-bots/switchboard/bots/echo"
)

// At debug level an operator sees one line per update handled, naming it.
func TestDebugLinePerUpdateHandled(t *testing.T) {
	srv := telegramtest.New(t)
	logs := &logBuffer{}
	a, err := telegram.New(testConfig(srv), telegram.WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err != nil {
		t.Fatal(err)
	}
	r := start(t, a, echo.New())
	r.ready(t)
	var ids []int
	for i := range 3 {
		ids = append(ids, srv.Text(100+int64(i), 7, "hi"))
	}
	if err := srv.AwaitSent(3, wait); err != nil {
		t.Fatal(err)
	}
	r.stop(t) // the last acknowledgement is logged by then
	for _, id := range ids {
		if want := fmt.Sprintf(`msg="telegram: update handled" adapter=tg update_id=%d`, id); !strings.Contains(logs.String(), want) {
			t.Errorf("no %q in the log:\n%s", want, logs.String())
		}
	}
}
