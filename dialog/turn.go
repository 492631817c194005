package dialog

import (
	"context"
	"strconv"
	"strings"

	"github.com/switchboard-bots/switchboard/scope"
)

// Turn is what a step's Prompt and Answer get: the conversation, and the
// values its dialogs keep.
type Turn struct{ b *Bot }

// Say says text in the conversation.
func (t *Turn) Say(ctx context.Context, text string) error { return t.b.Say(ctx, text) }

// Ask asks question with choices, as numbered lines on every protocol. The
// step's Answer gets the choice itself when the user answers with its
// number or its text (in any case), and the text as typed otherwise.
func (t *Turn) Ask(ctx context.Context, question string, choices ...string) error {
	var sb strings.Builder
	sb.WriteString(question)
	for i, c := range choices {
		sb.WriteString("\n" + strconv.Itoa(i+1) + ". " + c)
	}
	t.b.State().Choices = append([]string(nil), choices...)
	return t.b.Say(ctx, sb.String())
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
