package playground

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/switchboard-bots/switchboard/adapters/slack/fakeslack"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
)

// The developer's identities on the stand-ins: a private Telegram chat and
// a Slack channel.
const (
	TelegramChat = 1001
	SlackChannel = "C0PLAYGROUND"
	SlackUser    = "U0DEVELOPER"
	maxText      = 4096
)

// Playground holds the stand-ins and what the developer said to them.
type Playground struct {
	tg   *telegramtest.Server
	sl   *fakeslack.Server
	page string // the web chat page's URL, or ""

	mu     sync.Mutex
	tgSaid []said // what the developer said on Telegram
	slSaid []said // and on Slack
}

// said is a message of the developer's.
type said struct {
	Text string
	TS   string // Slack's timestamp of it
	At   time.Time
}

// New starts the stand-ins. Close them with Close.
func New() *Playground {
	return &Playground{tg: telegramtest.NewServer(), sl: fakeslack.NewServer(fakeslack.Options{PingInterval: 10 * time.Second})}
}

// Stand returns where a config's Telegram and Slack sections must point.
func (p *Playground) Stand() Stand {
	o := p.sl.Options()
	return Stand{TelegramToken: p.tg.Token(), TelegramEndpoint: p.tg.Endpoint(),
		SlackBotToken: o.BotToken, SlackAppToken: o.AppToken, SlackAPI: p.sl.APIURL}
}

// SetPage sets the web chat page's URL that the playground shows.
func (p *Playground) SetPage(url string) { p.page = url }

// Close stops the stand-ins.
func (p *Playground) Close() {
	p.tg.Close()
	p.sl.Close()
}

// Handler serves the page and its API:
//
//	GET  /                  the page
//	GET  /api/state         both transcripts (see State)
//	POST /api/telegram/say  {"text"}            a message from the developer
//	POST /api/telegram/press {"message_id","data"} a press of an inline button
//	POST /api/slack/say     {"text"}
//	POST /api/slack/press   {"action_id","value","ts"} a press of a Block Kit button
func (p *Playground) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /", http.FileServerFS(pageFS()))
	mux.HandleFunc("GET /api/state", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(p.State())
	})
	mux.HandleFunc("POST /api/telegram/say", p.post(func(in input) {
		p.mu.Lock()
		p.tgSaid = append(p.tgSaid, said{Text: in.Text, At: time.Now()})
		p.mu.Unlock()
		p.tg.Text(TelegramChat, TelegramChat, in.Text)
	}))
	mux.HandleFunc("POST /api/telegram/press", p.post(func(in input) {
		p.tg.Callback(TelegramChat, TelegramChat, in.MessageID, in.Data)
	}))
	mux.HandleFunc("POST /api/slack/say", p.post(func(in input) {
		m := p.sl.Message(SlackChannel, SlackUser, in.Text)
		p.mu.Lock()
		p.slSaid = append(p.slSaid, said{Text: in.Text, TS: m["ts"].(string), At: time.Now()})
		p.mu.Unlock()
		p.sl.PushEvent(m)
	}))
	mux.HandleFunc("POST /api/slack/press", p.post(func(in input) {
		p.sl.PushInteraction(p.sl.BlockAction(SlackChannel, SlackUser, in.ActionID, in.Value, in.TS))
	}))
	return mux
}

// input is what the page posts.
type input struct {
	Text      string `json:"text"`
	MessageID int    `json:"message_id"`
	Data      string `json:"data"`
	ActionID  string `json:"action_id"`
	Value     string `json:"value"`
	TS        string `json:"ts"`
}

// post decodes a small JSON body and hands it to do.
func (p *Playground) post(do func(input)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in input
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&in); err != nil {
			http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
			return
		}
		if len(in.Text) > maxText {
			http.Error(w, "text over 4096 bytes", http.StatusRequestEntityTooLarge)
			return
		}
		do(in)
		w.WriteHeader(http.StatusNoContent)
	}
}

// State is both transcripts, oldest first, and the web page's URL.
type State struct {
	Telegram []Entry `json:"telegram"`
	Slack    []Entry `json:"slack"`
	Page     string  `json:"page,omitempty"`
}

// Entry is one message as the platform would show it.
type Entry struct {
	From      string          `json:"from"` // "you" or "bot"
	ID        string          `json:"id,omitempty"`
	Text      string          `json:"text"`
	Format    string          `json:"format,omitempty"`   // Telegram's parse_mode
	Keyboard  json.RawMessage `json:"keyboard,omitempty"` // Telegram's inline_keyboard rows
	Blocks    json.RawMessage `json:"blocks,omitempty"`   // Slack's Block Kit blocks
	Edited    bool            `json:"edited,omitempty"`
	Reactions []string        `json:"reactions,omitempty"`
	Note      string          `json:"note,omitempty"` // typing, a callback's answer, an ephemeral message
	at        time.Time
}

// State compiles the transcripts from what the stand-ins recorded.
func (p *Playground) State() State {
	p.mu.Lock()
	tgSaid, slSaid := slices.Clone(p.tgSaid), slices.Clone(p.slSaid)
	p.mu.Unlock()
	return State{Telegram: p.telegram(tgSaid), Slack: p.slack(slSaid), Page: p.page}
}

func (p *Playground) telegram(mine []said) []Entry {
	var out []Entry
	for _, s := range mine {
		out = append(out, Entry{From: "you", Text: s.Text, at: s.At})
	}
	byID := map[string]int{}
	for _, c := range p.tg.Calls("") {
		if c.Status != http.StatusOK {
			continue
		}
		id := strconv.Itoa(c.MessageID)
		e := Entry{From: "bot", ID: id, Text: c.Params.Get("text"), Format: c.Params.Get("parse_mode"), at: c.Time}
		if rm := c.Params.Get("reply_markup"); rm != "" {
			var m struct {
				Rows json.RawMessage `json:"inline_keyboard"`
			}
			if json.Unmarshal([]byte(rm), &m) == nil {
				e.Keyboard = m.Rows
			}
		}
		switch c.Method {
		case "sendMessage", "sendPhoto", "sendDocument":
			if c.ChatID() != TelegramChat {
				continue
			}
			if c.Method != "sendMessage" {
				e.Text, e.Note = c.Params.Get("caption"), c.Method[len("send"):]
			}
			byID[id] = len(out)
			out = append(out, e)
		case "editMessageText":
			if i, ok := byID[id]; ok {
				e.at, e.Edited = out[i].at, true
				out[i] = e
			}
		case "sendChatAction":
			if c.ChatID() == TelegramChat {
				out = append(out, Entry{From: "bot", Note: c.Params.Get("action") + "…", at: c.Time})
			}
		case "answerCallbackQuery":
			if t := c.Params.Get("text"); t != "" {
				out = append(out, Entry{From: "bot", Note: "answer: " + t, at: c.Time})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Entry) int { return a.at.Compare(b.at) })
	return out
}

func (p *Playground) slack(mine []said) []Entry {
	var out []Entry
	byTS := map[string]int{}
	for _, s := range mine {
		byTS[s.TS] = len(out)
		out = append(out, Entry{From: "you", ID: s.TS, Text: s.Text, at: s.At})
	}
	for _, c := range p.sl.Calls("") {
		if c.Err != "" || (c.Channel() != SlackChannel && c.Method != "response_url") {
			continue
		}
		e := Entry{From: "bot", ID: c.Params["ts"], Text: c.Text(), at: c.Time}
		if b := c.Params["blocks"]; b != "" && json.Valid([]byte(b)) {
			e.Blocks = json.RawMessage(b)
		}
		switch c.Method {
		case "chat.postMessage", "response_url":
			byTS[e.ID] = len(out)
			out = append(out, e)
		case "chat.postEphemeral":
			e.Note = "only visible to you"
			out = append(out, e)
		case "chat.update":
			if i, ok := byTS[e.ID]; ok {
				e.Edited, e.From = true, out[i].From
				out[i] = e
			}
		case "reactions.add":
			if i, ok := byTS[c.Params["timestamp"]]; ok {
				out[i].Reactions = append(out[i].Reactions, c.Params["name"])
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Entry) int { return a.at.Compare(b.at) })
	return out
}
