package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
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
	polls   string // the getUpdates URL
}

func newAPI(token, endpoint string, hc *http.Client, inflight int, timeout time.Duration) *api {
	// The library's constructors call getMe without a context; build the
	// value directly and call getMe later, under Run's context.
	a := &api{bot: tgbotapi.BotAPI{Token: token, Client: hc, Buffer: 100}, hc: hc,
		sem: make(chan struct{}, inflight), timeout: timeout, token: token,
		polls: fmt.Sprintf(endpoint, token, "getUpdates")}
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
		return nil, a.refusal(method, cc.status, te.Code, te.Message, te.ResponseParameters)
	}
	return nil, a.failure(ctx, method, cc.status, err)
}

// refusal is the *APIError of an answer with ok false; code is the
// answer's error_code, status the HTTP status, used when code is missing.
func (a *api) refusal(method string, status, code int, desc string, p tgbotapi.ResponseParameters) *APIError {
	if code == 0 {
		code = status
	}
	return &APIError{Method: method, Code: code, Description: scrub(desc, a.token),
		RetryAfter: time.Duration(p.RetryAfter) * time.Second, MigrateToChatID: p.MigrateToChatID}
}

// failure is the error of a call that got no answer from the API: a
// network failure, the context's end, or a body that is not the API's.
func (a *api) failure(ctx context.Context, method string, status int, err error) error {
	if ctx.Err() != nil {
		return &NetError{Method: method, msg: ctx.Err().Error(), cause: ctx.Err()}
	}
	if status >= 500 {
		// A proxy's HTML error page: not the API's JSON, still a 5xx.
		return &APIError{Method: method, Code: status, Description: http.StatusText(status)}
	}
	return &NetError{Method: method, msg: scrub(err.Error(), a.token)}
}

// okResult leads every successful answer of the Bot API.
const okResult = `{"ok":true,"result":`

// getUpdates makes a getUpdates call with ctx and returns the updates,
// each undecoded and aliasing buf, which is reset and filled with the
// answer. It goes around the library, which decodes a whole answer twice
// before handing its result over: while updates are in flight, most of
// what a poll returns was taken already, and the poller tells those by
// their leading update_id without decoding them. An answer that is not
// the plain success Telegram sends is decoded as the library would.
func (a *api) getUpdates(ctx context.Context, form url.Values, buf *bytes.Buffer) ([]json.RawMessage, error) {
	const method = "getUpdates"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.polls, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, &NetError{Method: method, msg: scrub(err.Error(), a.token)}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, a.failure(ctx, method, 0, err)
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return nil, a.failure(ctx, method, resp.StatusCode, err)
	}
	body := bytes.TrimRight(buf.Bytes(), " \t\r\n")
	if resp.StatusCode == http.StatusOK && bytes.HasPrefix(body, []byte(okResult)) && bytes.HasSuffix(body, []byte("}")) {
		if ups, err := splitList(body[len(okResult) : len(body)-1]); err == nil {
			return ups, nil
		}
	}
	var ar tgbotapi.APIResponse
	if err := json.Unmarshal(body, &ar); err != nil {
		return nil, a.failure(ctx, method, resp.StatusCode, err)
	}
	if !ar.Ok {
		var p tgbotapi.ResponseParameters
		if ar.Parameters != nil {
			p = *ar.Parameters
		}
		return nil, a.refusal(method, resp.StatusCode, ar.ErrorCode, ar.Description, p)
	}
	ups, err := splitList(ar.Result)
	if err != nil {
		return nil, &NetError{Method: method, msg: "result is not a list of updates: " + err.Error()}
	}
	return ups, nil
}
