package dialog

import (
	"context"
	"fmt"
	"time"
)

// Dialog is a named set of steps. Make it with New.
type Dialog struct {
	name  string
	first string
	steps map[string]*Step
}

// Step is one step of a Dialog.
type Step struct {
	// Name identifies the step in its dialog; transitions name it.
	Name string
	// Prompt runs each time the conversation arrives at the step: it asks
	// the step's question (Turn.Say, Turn.Ask). Optional.
	Prompt func(ctx context.Context, t *Turn) error
	// Answer handles a message at this step and says where to go. A step
	// without Answer (or with Sub) takes no answers of its own.
	Answer func(ctx context.Context, t *Turn, text string) (Next, error)
	// Timeout ends the wait for an answer: the conversation moves to
	// OnTimeout ("" leaves every dialog). 0: no timeout.
	Timeout   time.Duration
	OnTimeout string
	// Sub runs a nested dialog at this step; once it is done the
	// conversation moves to Then ("" ends this dialog too).
	Sub  *Dialog
	Then string
}

// New returns the dialog name of steps, which starts at the first. It
// panics on a wiring mistake: no steps, a step without a name, two steps
// of one name, an OnTimeout or Then naming no step.
func New(name string, steps ...Step) *Dialog {
	if len(steps) == 0 {
		panic(fmt.Sprintf("dialog.New(%q): no steps", name))
	}
	d := &Dialog{name: name, first: steps[0].Name, steps: make(map[string]*Step, len(steps))}
	for i := range steps {
		s := &steps[i]
		switch {
		case s.Name == "":
			panic(fmt.Sprintf("dialog.New(%q): step %d has no name", name, i))
		case d.steps[s.Name] != nil:
			panic(fmt.Sprintf("dialog.New(%q): two steps named %q", name, s.Name))
		}
		d.steps[s.Name] = s
	}
	for _, s := range steps {
		for _, target := range []string{s.OnTimeout, s.Then} {
			if target != "" && d.steps[target] == nil {
				panic(fmt.Sprintf("dialog.New(%q): step %q names no step %q", name, s.Name, target))
			}
		}
	}
	return d
}

// Name returns the dialog's name.
func (d *Dialog) Name() string { return d.name }

// Next is where a step's Answer sends the conversation.
type Next struct {
	kind nextKind
	step string
}

type nextKind uint8

const (
	stay nextKind = iota
	gotoStep
	repeat
	done
)

// Goto moves to the step named step of the same dialog and prompts there.
// The step left is remembered for Back.
func Goto(step string) Next { return Next{kind: gotoStep, step: step} }

// Repeat stays at the step and prompts again (an answer that did not fit).
func Repeat() Next { return Next{kind: repeat} }

// Stay stays at the step without prompting again.
func Stay() Next { return Next{kind: stay} }

// Done ends the dialog: the conversation returns to the step that ran it
// as a Sub, which goes on at its Then, or leaves dialogs when it was the
// outermost.
func Done() Next { return Next{kind: done} }
