package room

import (
	"slices"
	"testing"

	wsa "github.com/switchboard-bots/switchboard/adapters/websocket"
)

// A member hears the lines of a batch but its own, in order, and the
// batch's frames are shared by the members who sent none of them.
func TestFramesForLeavesOutAMembersOwnLines(t *testing.T) {
	ann, bob := &Web{self: "ann"}, &Web{self: "bob"}
	var batch []line
	var frames []*wsa.Broadcast
	for i, sender := range []string{"ann", "cy", "ann", "cy"} {
		b := wsa.NewBroadcast(string(rune('1' + i)))
		batch = append(batch, line{frame: b, sender: sender})
		frames = append(frames, b)
	}
	var own []*wsa.Broadcast
	if got := framesFor(bob, batch, frames, &own); &got[0] != &frames[0] || len(got) != 4 {
		t.Errorf("bob, who sent none, got %d frames, not the batch's own slice", len(got))
	}
	got := framesFor(ann, batch, frames, &own)
	if want := []*wsa.Broadcast{frames[1], frames[3]}; !slices.Equal(got, want) {
		t.Errorf("ann got %v, want the second and fourth lines", got)
	}
}
