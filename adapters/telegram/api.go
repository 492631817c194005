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
	"slices"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// api makes Bot API calls with what the library lacks: a context per
// call, a bound on concurrent calls, the HTTP status of multipart answers
// (whose error code the library drops), and errors that never carry the
// token. Calls with files go through the library's multipart upload; the
// others, every message sent among them, are form POSTs made here (see
// post), as the library would make them but without its per-call copies.
type api struct {
	bot     tgbotapi.BotAPI // a template: copied per upload with its own Client
	hc      *http.Client
	sem     chan struct{}
	timeout time.Duration
	token   string
	// A method's URL is urlHead + method + urlTail.
	urlHead, urlTail string
	bufs             sync.Pool // *bytes.Buffer for the answers of calls
}

func newAPI(token, endpoint string, hc *http.Client, inflight int, timeout time.Duration) *api {
	// The library's constructors call getMe without a context; build the
	// value directly and call getMe later, under Run's context.
	a := &api{bot: tgbotapi.BotAPI{Token: token, Client: hc, Buffer: 100}, hc: hc,
		sem: make(chan struct{}, inflight), timeout: timeout, token: token}
	a.bot.SetAPIEndpoint(endpoint)
	// The endpoint is a format of the token and the method, as the
	// library's: split once at the method rather than formatting per call.
	a.urlHead, a.urlTail, _ = strings.Cut(fmt.Sprintf(endpoint, token, "\x00"), "\x00")
	a.bufs.New = func() any { return new(bytes.Buffer) }
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
// request timeout. res, if not nil, is set to the answer's result.
func (a *api) call(ctx context.Context, method string, params tgbotapi.Params, files []tgbotapi.RequestFile, res *json.RawMessage) error {
	select {
	case a.sem <- struct{}{}:
	case <-ctx.Done():
		return &NetError{Method: method, msg: "waiting for a free connection: " + ctx.Err().Error(), cause: ctx.Err()}
	}
	defer func() { <-a.sem }()
	cctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	return a.do(cctx, method, params, files, res)
}

// do makes one call with ctx and no other bound: getUpdates uses it
// directly, so a long poll never holds a slot meant for sending. res, if
// not nil, is set to the answer's result; most callers (every send) have
// no use for it, and then it is neither decoded nor copied.
func (a *api) do(ctx context.Context, method string, params tgbotapi.Params, files []tgbotapi.RequestFile, res *json.RawMessage) error {
	if len(files) > 0 {
		return a.upload(ctx, method, params, files, res)
	}
	buf := a.bufs.Get().(*bytes.Buffer)
	defer a.putBuf(buf)
	result, err := a.post(ctx, method, encodeForm(params), buf, nil)
	if err == nil && res != nil {
		*res = bytes.Clone(result)
	}
	return err
}

// putBuf keeps buf for another call, unless an unusually large answer
// grew it.
func (a *api) putBuf(buf *bytes.Buffer) {
	if buf.Cap() <= 64<<10 {
		a.bufs.Put(buf)
	}
}

// upload makes a call with files through the library's multipart upload.
func (a *api) upload(ctx context.Context, method string, params tgbotapi.Params, files []tgbotapi.RequestFile, res *json.RawMessage) error {
	b := a.bot
	cc := &callClient{ctx: ctx, hc: a.hc}
	b.Client = cc
	resp, err := b.UploadFiles(method, params, files)
	if err == nil {
		if res != nil {
			*res = resp.Result
		}
		return nil
	}
	var te *tgbotapi.Error
	if errors.As(err, &te) {
		return a.refusal(method, cc.status, te.Code, te.Message, te.ResponseParameters)
	}
	return a.failure(ctx, method, cc.status, err)
}

// encodeForm encodes params as the library does (url.Values' Encode: keys
// sorted, keys and values query-escaped), without building the
// url.Values.
func encodeForm(params tgbotapi.Params) string {
	var arr [16]string
	keys := arr[:0]
	n := 0
	for k, v := range params {
		keys = append(keys, k)
		n += len(k) + len(v) + 2
	}
	slices.Sort(keys)
	var b strings.Builder
	b.Grow(n + n/4) // room for some escapes
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(k))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(params[k]))
	}
	return b.String()
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
// answer. It does not decode a whole answer twice before handing its
// result over, as the library does: while updates are in flight, most of
// what a poll returns was taken already, and the poller tells those by
// their leading update_id without decoding them.
func (a *api) getUpdates(ctx context.Context, form url.Values, buf *bytes.Buffer) ([]json.RawMessage, error) {
	var ups []json.RawMessage
	// An answer in the plain layout Telegram sends is split as it is; one
	// that does not split is decoded in full, as the library would.
	if _, err := a.post(ctx, "getUpdates", form.Encode(), buf, func(res []byte) (err error) {
		ups, err = splitList(res)
		return err
	}); err != nil {
		return nil, err
	}
	return ups, nil
}

// post makes a call whose parameters are the form, with ctx, and returns
// the answer's result, which aliases buf (reset and filled with the
// answer). The answer of a success in the layout Telegram sends,
// {"ok":true,"result":...}, is taken as it is, the result checked by
// check if not nil; any other answer, or one that fails check, is decoded
// in full, as the library would, into a result or an error. check is
// called once with the result of a success either way.
func (a *api) post(ctx context.Context, method, form string, buf *bytes.Buffer, check func([]byte) error) (json.RawMessage, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.urlHead+method+a.urlTail, strings.NewReader(form))
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
	// Read to the end, so that the connection goes back to the pool.
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return nil, a.failure(ctx, method, resp.StatusCode, err)
	}
	body := bytes.TrimRight(buf.Bytes(), " \t\r\n")
	if resp.StatusCode == http.StatusOK && bytes.HasPrefix(body, []byte(okResult)) && bytes.HasSuffix(body, []byte("}")) {
		res := body[len(okResult) : len(body)-1]
		if check == nil || check(res) == nil {
			return res, nil
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
	if check != nil {
		if err := check(ar.Result); err != nil {
			return nil, &NetError{Method: method, msg: "unexpected result: " + err.Error()}
		}
	}
	return ar.Result, nil
}
