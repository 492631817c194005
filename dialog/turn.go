package dialog

import (
	"context"
	"strconv"
	"strings"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// Turn is what a step's Prompt and Answer get: the conversation, and the
// values its dialogs keep.
type Turn struct{ b *Bot }

// Send sends an outbound event of the conversation's protocol.
func (t *Turn) Send(ctx context.Context, ev event.Event) error { return t.b.Send(ctx, ev) }

// Say says text in the conversation.
func (t *Turn) Say(ctx context.Context, text string) error { return t.b.Say(ctx, text) }

// Ask asks question with choices, as numbered lines on every protocol. The
// step's Answer gets the choice itself when the user answers with its
// number or its text (in any case), and the text as typed otherwise.
func (t *Turn) Ask(ctx context.Context, question string, choices ...string) error {
	t.b.State().Choices = append([]string(nil), choices...)
	if t.b.cfg.ask != nil {
		return t.b.cfg.ask(ctx, t, question, choices)
	}
	return t.b.Say(ctx, Numbered(question, choices))
}

// Numbered is question with choices as numbered lines: how Ask shows them
// where a platform has no buttons.
func Numbered(question string, choices []string) string {
	var sb strings.Builder
	sb.WriteString(question)
	for i, c := range choices {
		sb.WriteString("\n" + strconv.Itoa(i+1) + ". " + c)
	}
	return sb.String()
}

// Token returns what stands for the i-th choice of the question being
// asked, for a button to carry back to Bot.Choose: short whatever the
// choice (it fits Telegram's 64 bytes of callback data), since the choices
// themselves stay in the session, and tied to this question, so that a
// button of an earlier one does nothing.
func (t *Turn) Token(i int) string {
	st := t.b.State()
	seq := 0
	if len(st.Stack) > 0 {
		seq = st.Stack[len(st.Stack)-1].Seq
	}
	return tokenPrefix + strconv.Itoa(seq) + ":" + strconv.Itoa(i)
}

const tokenPrefix = "dlg:"

func parseToken(s string) (seq, i int, ok bool) {
	rest, found := strings.CutPrefix(s, tokenPrefix)
	if !found {
		return 0, 0, false
	}
	a, b, found := strings.Cut(rest, ":")
	if !found {
		return 0, 0, false
	}
	seq, err1 := strconv.Atoi(a)
	i, err2 := strconv.Atoi(b)
	return seq, i, err1 == nil && err2 == nil && i >= 0
}

// Set keeps value under key in the conversation's session.
func (t *Turn) Set(key, value string) {
	st := t.b.State()
	if st.Values == nil {
		st.Values = map[string]string{}
	}
	st.Values[key] = value
}

// Get returns the value kept under key, or "".
func (t *Turn) Get(key string) string { return t.b.State().Values[key] }

// Scope returns the conversation's scope.
func (t *Turn) Scope() *scope.Scope { return t.b.Scope() }

// Step returns the name of the current step, "" outside dialogs.
func (t *Turn) Step() string {
	st := t.b.State()
	if len(st.Stack) == 0 {
		return ""
	}
	return st.Stack[len(st.Stack)-1].Step
}

// Start starts the App's dialog, from a WithIdle handler.
func (t *Turn) Start(ctx context.Context) error { return t.b.start(ctx, t, t.b.root) }
