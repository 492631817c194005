package websocket_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/switchboard-bots/switchboard/adapters"
	wsa "github.com/switchboard-bots/switchboard/adapters/websocket"
	"github.com/switchboard-bots/switchboard/bots/wschat"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/memory"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

// Example serves the chat bot over WebSocket and an ordinary http.Handler
// beside it, with one protocol router and two path routers.
func Example() {
	api := http.NewServeMux()
	api.HandleFunc("GET /api/health", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	ws := router.NewPathRouter()
	ws.Handle("/ws/chat/", wschat.New())
	web := router.NewPathRouter()
	web.Mount("/api", wsa.Handler(api))
	app := router.ByProtocol(router.Routes{"websocket": ws, "http": web})

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	a, _ := wsa.New(wsa.Config{}, wsa.WithListener(ln))
	h := adapters.NewHost(a, adapters.WithScopes(a.ScopeConfig(scope.Config{})))
	go h.Run(context.Background(), app)
	<-h.Ready()
	defer h.Shutdown(context.Background())

	c, _, err := gorilla.DefaultDialer.Dial("ws://"+ln.Addr().String()+"/ws/chat/", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	_, welcome, _ := c.ReadMessage()
	_ = c.WriteMessage(gorilla.TextMessage, []byte("hello"))
	_, answer, _ := c.ReadMessage()
	fmt.Println(string(welcome))
	fmt.Println(string(answer))

	resp, err := http.Get("http://" + ln.Addr().String() + "/api/health")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(string(body))
	// Output:
	// Welcome, Anonymous!
	// Anonymous: hello
	// ok
}

// News is a layer message: something for the long-polling clients.
type News struct {
	Text string `msgpack:"text"`
}

func (News) Type() string { return "news.published" }

// Poll holds each request open until news arrives on the layer group
// "news", then answers with it: HTTP long-polling.
type Poll struct {
	consumer.HTTP
	joined chan<- struct{} // tells the example that the poll is waiting
}

// Wait joins the group and returns without answering: the response stays
// open, and the scope with it, until News arrives.
func (p *Poll) Wait(ctx context.Context, _ []byte) error {
	if err := p.GroupAdd(ctx, "news"); err != nil {
		return err
	}
	p.joined <- struct{}{}
	return nil
}

// Publish answers the held request with the news.
func (p *Poll) Publish(ctx context.Context, n News) error {
	return p.Respond(ctx, http.StatusOK, map[string][]string{"Content-Type": {"text/plain"}}, []byte(n.Text))
}

// Example_longPolling holds HTTP requests open until a message arrives on
// the channel layer.
func Example_longPolling() {
	l, _ := memory.New(layer.Config{})
	defer l.Close()
	joined := make(chan struct{}, 1)
	polls := router.NewPathRouter()
	polls.Handle("/poll", consumer.New(func() *Poll { return &Poll{joined: joined} },
		consumer.OnRequest((*Poll).Wait), consumer.On((*Poll).Publish)))
	app := router.With(router.ByProtocol(router.Routes{"http": polls}), consumer.WithLayer(l))

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	a, _ := wsa.New(wsa.Config{}, wsa.WithListener(ln))
	h := adapters.NewHost(a, adapters.WithScopes(a.ScopeConfig(scope.Config{})),
		adapters.WithLogger(slog.New(slog.DiscardHandler)))
	go h.Run(context.Background(), app)
	<-h.Ready()
	defer h.Shutdown(context.Background())

	answer := make(chan string)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/poll")
		if err != nil {
			answer <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answer <- fmt.Sprintf("%d %s", resp.StatusCode, b)
	}()
	select {
	case <-joined:
	case <-time.After(5 * time.Second):
		fmt.Println("the poll never started")
		return
	}
	_ = l.GroupSend(context.Background(), "news", News{Text: "Switchboard 1.0 is out"})
	fmt.Println(<-answer)
	// Output:
	// 200 Switchboard 1.0 is out
}
