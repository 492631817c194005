package session_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/switchboard-bots/switchboard/session"
	"github.com/switchboard-bots/switchboard/session/memory"
)

// Two writers load the same value; the one that saves second gets
// ErrConflict instead of overwriting the other's change, and Update
// redoes its change on what is stored now.
func Example() {
	ctx := context.Background()
	st := memory.New()
	v, _ := st.Save(ctx, "conv:telegram:42", []byte("1"), 0, time.Hour)

	// Another process saves first.
	if _, err := st.Save(ctx, "conv:telegram:42", []byte("2"), v, time.Hour); err != nil {
		fmt.Println(err)
	}
	// This one's save, computed from version v, fails.
	_, err := st.Save(ctx, "conv:telegram:42", []byte("2"), v, time.Hour)
	fmt.Println(errors.Is(err, session.ErrConflict))

	// Update loads, applies the change and retries on conflict.
	r, _ := session.Update(ctx, st, "conv:telegram:42", time.Hour, 3, func(old []byte) ([]byte, error) {
		n, _ := strconv.Atoi(string(old))
		return []byte(strconv.Itoa(n + 1)), nil
	})
	fmt.Println(string(r.Data))
	// Output:
	// true
	// 3
}
