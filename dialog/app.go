package dialog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/timer"
)

// State is what a conversation's session keeps of its dialogs.
type State struct {
	// Stack holds the dialogs the conversation is in, the outermost first.
	// Empty: in none.
	Stack []Frame `json:"stack,omitempty"`
	// Values are the answers steps kept with Turn.Set, shared by nested
	// dialogs and kept after the dialogs end.
	Values map[string]string `json:"values,omitempty"`
	// Choices are the choices of the last Ask, for a numbered answer.
	Choices []string `json:"choices,omitempty"`
	// Seq counts the steps entered, so that a timeout knows whether its
	// step is still the current one.
	Seq int `json:"seq,omitempty"`
}

// Frame is the position in one dialog.
type Frame struct {
	Dialog  string   `json:"dialog"`
	Step    string   `json:"step"`
	History []string `json:"history,omitempty"` // steps left by Goto, for Back
	Entered int64    `json:"entered"`           // Unix milliseconds
	Seq     int      `json:"seq"`
}

// Expired is the event a step's timeout brings back through the timer
// store.
type Expired struct {
	Seq int `msgpack:"seq"`
}

// Type implements event.Event.
func (Expired) Type() string { return "dialog.expired" }

// Settings of App.
type config struct {
	cancel, back string
	cancelled    string
	timedOut     string
	now          func() time.Time
	finished     func(ctx context.Context, t *Turn, text string) error
	ask          func(ctx context.Context, t *Turn, question string, choices []string) error
	handlers     []consumer.Handler[*Bot]
}

// Option configures App.
type Option func(*config)

// WithCommands sets the commands that leave every dialog and that go back a
// step. Default: "/cancel" and "/back". "" turns one off.
func WithCommands(cancel, back string) Option {
	return func(c *config) { c.cancel, c.back = cancel, back }
}

// WithTexts sets what the bot says when a dialog is cancelled and when a
// step timed out with nowhere to go. Default: "Cancelled." and "Timed out."
func WithTexts(cancelled, timedOut string) Option {
	return func(c *config) { c.cancelled, c.timedOut = cancelled, timedOut }
}

// WithIdle sets what handles a message while the conversation is in no
// dialog. Default: nothing; the message starts the dialog.
func WithIdle(f func(ctx context.Context, t *Turn, text string) error) Option {
	return func(c *config) { c.finished = f }
}

// WithAsk sets how Turn.Ask shows a question with choices, such as the
// platform's buttons (package dialog/buttons); a button's press comes back
// through a handler given WithHandlers, which calls Bot.Choose. Default:
// numbered lines.
func WithAsk(f func(ctx context.Context, t *Turn, question string, choices []string) error) Option {
	return func(c *config) { c.ask = f }
}

// WithHandlers adds handlers of more event types to the dialog's consumer,
// such as the platforms' button presses.
func WithHandlers(hs ...consumer.Handler[*Bot]) Option {
	return func(c *config) { c.handlers = append(c.handlers, hs...) }
}

// WithClock sets the clock step timeouts are measured with. Default:
// time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// Bot is the consumer App makes of a dialog.
type Bot struct {
	consumer.Chat
	consumer.Stateful[State]
	root    *Dialog
	dialogs map[string]*Dialog
	cfg     *config
}

// App returns the chat consumer that runs d in every conversation: a
// message while the conversation is in no dialog starts it (unless WithIdle
// handles it), and each later one is the answer to the current step. It
// panics if two nested dialogs share a name.
func App(d *Dialog, opts ...Option) *consumer.App[*Bot] {
	cfg := &config{cancel: "/cancel", back: "/back", cancelled: "Cancelled.", timedOut: "Timed out.", now: time.Now}
	for _, o := range opts {
		o(cfg)
	}
	dialogs := map[string]*Dialog{}
	collect(d, dialogs)
	hs := append([]consumer.Handler[*Bot]{consumer.OnMessage((*Bot).Message), consumer.On((*Bot).Expired)}, cfg.handlers...)
	return consumer.New(func() *Bot { return &Bot{root: d, dialogs: dialogs, cfg: cfg} }, hs...)
}

func collect(d *Dialog, into map[string]*Dialog) {
	if prev, ok := into[d.name]; ok {
		if prev != d {
			panic(fmt.Sprintf("dialog.App: two dialogs named %q", d.name))
		}
		return
	}
	into[d.name] = d
	for _, s := range d.steps {
		if s.Sub != nil {
			collect(s.Sub, into)
		}
	}
}

// Message handles a chat message: a command, the start of the dialog, or
// the answer to the current step.
func (b *Bot) Message(ctx context.Context, m event.ChatMessage) error {
	return b.handleText(ctx, strings.TrimSpace(m.ChatText()))
}

// Choose answers the current step with the choice that token (Turn.Token
// of the last Ask) stands for, as a button's press does. It reports false,
// doing nothing, when token belongs to a question no longer asked.
func (b *Bot) Choose(ctx context.Context, token string) (bool, error) {
	st := b.State()
	seq, i, ok := parseToken(token)
	if !ok || len(st.Stack) == 0 || seq != st.Stack[len(st.Stack)-1].Seq || i >= len(st.Choices) {
		return false, nil
	}
	return true, b.answer(ctx, &Turn{b: b}, st.Choices[i])
}

func (b *Bot) handleText(ctx context.Context, text string) error {
	st := b.State()
	t := &Turn{b: b}
	switch {
	case text == b.cfg.cancel && text != "":
		if len(st.Stack) == 0 {
			return nil
		}
		b.leave()
		return t.Say(ctx, b.cfg.cancelled)
	case len(st.Stack) == 0:
		if b.cfg.finished != nil {
			return b.cfg.finished(ctx, t, text)
		}
		return b.start(ctx, t, b.root)
	case text == b.cfg.back && text != "":
		return b.goBack(ctx, t)
	}
	return b.answer(ctx, t, b.resolve(text))
}

// answer hands text to the current step, unless its time ran out.
func (b *Bot) answer(ctx context.Context, t *Turn, text string) error {
	f, s := b.current()
	if s.Timeout > 0 && b.cfg.now().Sub(time.UnixMilli(f.Entered)) >= s.Timeout {
		return b.timeout(ctx, t)
	}
	if s.Answer == nil {
		return nil
	}
	next, err := s.Answer(ctx, t, text)
	if err != nil {
		return err
	}
	return b.apply(ctx, t, next)
}

// Expired handles a step's timeout brought back by the timer store.
func (b *Bot) Expired(ctx context.Context, e Expired) error {
	st := b.State()
	if len(st.Stack) == 0 || st.Stack[len(st.Stack)-1].Seq != e.Seq {
		return nil // answered or left meanwhile
	}
	return b.timeout(ctx, &Turn{b: b})
}

// resolve turns a numbered answer to the last Ask into its choice.
func (b *Bot) resolve(text string) string {
	choices := b.State().Choices
	var n int
	if _, err := fmt.Sscanf(text, "%d", &n); err == nil && fmt.Sprint(n) == text && n >= 1 && n <= len(choices) {
		return choices[n-1]
	}
	for _, c := range choices {
		if strings.EqualFold(c, text) {
			return c
		}
	}
	return text
}

func (b *Bot) current() (*Frame, *Step) {
	st := b.State()
	f := &st.Stack[len(st.Stack)-1]
	return f, b.dialogs[f.Dialog].steps[f.Step]
}

// start enters d at its first step.
func (b *Bot) start(ctx context.Context, t *Turn, d *Dialog) error {
	st := b.State()
	st.Stack = append(st.Stack, Frame{Dialog: d.name, Step: d.first})
	return b.enter(ctx, t)
}

// enter prompts at the current step, or starts its nested dialog.
func (b *Bot) enter(ctx context.Context, t *Turn) error {
	st := b.State()
	f, s := b.current()
	st.Seq++
	f.Seq, f.Entered = st.Seq, b.cfg.now().UnixMilli()
	st.Choices = nil
	if s.Sub != nil {
		return b.start(ctx, t, s.Sub)
	}
	if s.Timeout > 0 {
		err := timer.After(ctx, b.Scope(), "dialog", s.Timeout, Expired{Seq: st.Seq})
		if err != nil && !errors.Is(err, timer.ErrNoTimers) {
			return err
		}
	}
	if s.Prompt != nil {
		return s.Prompt(ctx, t)
	}
	return nil
}

func (b *Bot) apply(ctx context.Context, t *Turn, next Next) error {
	st := b.State()
	switch next.kind {
	case stay:
		return nil
	case repeat:
		return b.enter(ctx, t)
	case gotoStep:
		f, _ := b.current()
		if b.dialogs[f.Dialog].steps[next.step] == nil {
			return fmt.Errorf("dialog %q: step %q goes to %q, which it has no step of", f.Dialog, f.Step, next.step)
		}
		f.History = append(f.History, f.Step)
		f.Step = next.step
		return b.enter(ctx, t)
	}
	// done: back to the step that ran this dialog, which goes on.
	st.Stack = st.Stack[:len(st.Stack)-1]
	if len(st.Stack) == 0 {
		b.leave()
		return nil
	}
	_, parent := b.current()
	if parent.Then == "" {
		return b.apply(ctx, t, Done())
	}
	return b.apply(ctx, t, Goto(parent.Then))
}

func (b *Bot) goBack(ctx context.Context, t *Turn) error {
	f, _ := b.current()
	if len(f.History) == 0 {
		return b.enter(ctx, t) // at the first step: ask again
	}
	f.Step = f.History[len(f.History)-1]
	f.History = f.History[:len(f.History)-1]
	return b.enter(ctx, t)
}

func (b *Bot) timeout(ctx context.Context, t *Turn) error {
	f, s := b.current()
	if s.OnTimeout == "" {
		b.leave()
		return t.Say(ctx, b.cfg.timedOut)
	}
	f.History = append(f.History, f.Step)
	f.Step = s.OnTimeout
	return b.enter(ctx, t)
}

// leave leaves every dialog, keeping the values.
func (b *Bot) leave() {
	st := b.State()
	st.Stack, st.Choices = nil, nil
}
