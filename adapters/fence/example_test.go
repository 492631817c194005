package fence_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchboard-bots/switchboard/adapters/fence"
)

// An IRC send: PRIVMSG, then PING with the fence's token. The reader
// files the server's 401 about the target, then settles the fence at the
// PONG.
func Example() {
	var fences fence.Set[string]
	f := fences.Open("nobody")
	fmt.Println("-> PRIVMSG nobody :hi")
	fmt.Println("-> PING", f.Token)

	// The connection's reader:
	fences.Refuse(errors.New("401 nobody :No such nick"), func(_, target string) bool { return target == "nobody" })
	fences.Settle(f.Token) // <- PONG

	fmt.Println("send:", f.Wait(context.Background()))
	// Output:
	// -> PRIVMSG nobody :hi
	// -> PING sb1
	// send: 401 nobody :No such nick
}

// The connection drops while a send waits for its PONG: the send learns
// that its message may or may not have gone out, in the same terms
// whatever the protocol.
func ExampleSet_Lose() {
	var fences fence.Set[string]
	f := fences.Open("#chan")
	fences.Lose(fence.ErrLost) // the reader saw the connection end

	err := f.Wait(context.Background())
	fmt.Println(errors.Is(err, fence.ErrLost), err)
	// Output:
	// true fence: connection lost before the server confirmed the message
}
