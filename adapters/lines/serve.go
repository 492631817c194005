package lines

import (
	"context"
	"errors"
	"io"
	"strings"

	"github.com/switchboard-bots/switchboard/adapters"
)

// Serve is the Serve of an adapter whose platform is a stream of lines (a
// terminal, a pipe): it reads r with a Reader bounded to size and calls
// deliver with each line that is not blank, logging the lines it skips
// and the deliveries that fail, until ctx ends (it returns nil) or the
// input does (it returns adapters.ErrStopped, so that the Host ends every
// conversation and Run reports a clean stop). It reads in a goroutine of
// its own so that it returns as soon as ctx ends; that goroutine returns
// when its Read does (close r), and what it reads then is not delivered.
func Serve(ctx context.Context, in *adapters.Intake, r io.Reader, size int, deliver func(ctx context.Context, line string) error) error {
	log := in.Logger().With("adapter", in.Name())
	done := make(chan error, 1)
	go func() {
		lr := NewReader(r, size)
		for ctx.Err() == nil {
			line, err := lr.Read()
			switch {
			case errors.Is(err, ErrSkipped):
				log.Error("input line skipped", "max_line", size, "err", err)
			case err != nil:
				done <- err
				return
			case strings.TrimSpace(line) == "":
			default:
				if err := deliver(ctx, line); err != nil && ctx.Err() == nil {
					log.Error("input line not delivered", "err", err)
				}
			}
		}
		done <- nil
	}()
	in.Ready()
	select {
	case err := <-done:
		if err != nil && err != io.EOF {
			log.Error("input failed", "err", err)
		}
		return adapters.ErrStopped
	case <-ctx.Done():
		return nil
	}
}
