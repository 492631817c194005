package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// api makes Bot API calls through the library, with what it lacks: a
// context per call, a bound on concurrent calls, the HTTP status of
// multipart answers (whose error code the library drops), and errors that
// never carry the token.
type api struct {
	bot     tgbotapi.BotAPI // a template: copied per call with its own Client
	hc      *http.Client
	sem     chan struct{}
	timeout time.Duration
	token   string
}

func newAPI(token, endpoint string, hc *http.Client, inflight int, timeout time.Duration) *api {
	// The library's constructors call getMe without a context; build the
	// value directly and call getMe later, under Run's context.
	a := &api{bot: tgbotapi.BotAPI{Token: token, Client: hc, Buffer: 100}, hc: hc,
		sem: make(chan struct{}, inflight), timeout: timeout, token: token}
	a.bot.SetAPIEndpoint(endpoint)
	return a
}

// callClient is the library's HTTPClient for one call: it attaches the
// call's context, which the library's requests lack.
type callClient struct {
	ctx    context.Context
	hc     *http.Client
	status int
}

func (c *callClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.hc.Do(req.WithContext(c.ctx))
	if resp != nil {
		c.status = resp.StatusCode
		resp.Body = drainer{resp.Body}
	}
	return resp, err
}

// drainer reads what the library's JSON decoder left (a trailing newline)
// before closing, so that the connection goes back to the pool.
type drainer struct{ io.ReadCloser }

func (d drainer) Close() error {
	_, _ = io.CopyN(io.Discard, d.ReadCloser, 4<<10)
	return d.ReadCloser.Close()
}

// call makes one outbound call, bounded by the in-flight limit and the
// request timeout.
func (a *api) call(ctx context.Context, method string, params tgbotapi.Params, files []tgbotapi.RequestFile) (json.RawMessage, error) {
	select {
	case a.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, &NetError{Method: method, msg: "waiting for a free connection: " + ctx.Err().Error(), cause: ctx.Err()}
	}
	defer func() { <-a.sem }()
	cctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	return a.do(cctx, method, params, files)
}

// do makes one call with ctx and no other bound: getUpdates uses it
// directly, so a long poll never holds a slot meant for sending.
func (a *api) do(ctx context.Context, method string, params tgbotapi.Params, files []tgbotapi.RequestFile) (json.RawMessage, error) {
	b := a.bot
	cc := &callClient{ctx: ctx, hc: a.hc}
	b.Client = cc
	var (
		resp *tgbotapi.APIResponse
		err  error
	)
	if len(files) > 0 {
		resp, err = b.UploadFiles(method, params, files)
	} else {
		resp, err = b.MakeRequest(method, params)
	}
	if err == nil {
		return resp.Result, nil
	}
	var te *tgbotapi.Error
	if errors.As(err, &te) {
		code := te.Code
		if code == 0 {
			code = cc.status
		}
		return nil, &APIError{Method: method, Code: code, Description: scrub(te.Message, a.token),
			RetryAfter: time.Duration(te.RetryAfter) * time.Second, MigrateToChatID: te.MigrateToChatID}
	}
	if ctx.Err() != nil {
		return nil, &NetError{Method: method, msg: ctx.Err().Error(), cause: ctx.Err()}
	}
	if cc.status >= 500 {
		// A proxy's HTML error page: not the API's JSON, still a 5xx.
		return nil, &APIError{Method: method, Code: cc.status, Description: http.StatusText(cc.status)}
	}
	return nil, &NetError{Method: method, msg: scrub(err.Error(), a.token)}
}
