package lines_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/switchboard-bots/switchboard/adapters/lines"
)

// readAll reads r to its end, noting each skipped line as "!" and the
// error that ended it.
func readAll(r *lines.Reader) ([]string, error) {
	var got []string
	for {
		line, err := r.Read()
		switch {
		case errors.Is(err, lines.ErrTooLong):
			got = append(got, "!long")
		case errors.Is(err, lines.ErrNotUTF8):
			got = append(got, "!utf8")
		case err != nil:
			return got, err
		default:
			got = append(got, line)
		}
	}
}

func TestReader(t *testing.T) {
	in := "short\r\n" + strings.Repeat("x", 8) + "\n" + strings.Repeat("y", 9) + "\n" +
		strings.Repeat("z", 5000) + "\r\n\xff\xfe\nafter\n\nlast"
	// One byte at a time, so that a line arrives in many reads.
	got, err := readAll(lines.NewReader(iotest.OneByteReader(strings.NewReader(in)), 8))
	if err != io.EOF {
		t.Fatalf("ended with %v, want io.EOF", err)
	}
	want := "short|xxxxxxxx|!long|!long|!utf8|after||last"
	if strings.Join(got, "|") != want {
		t.Fatalf("got %q\nwant %q", strings.Join(got, "|"), want)
	}
}

func TestReaderSkipsALongLastLine(t *testing.T) {
	got, err := readAll(lines.NewReader(strings.NewReader("ok\n"+strings.Repeat("x", 100)), 8))
	if err != io.EOF || strings.Join(got, "|") != "ok|!long" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestReaderPassesOnReadErrors(t *testing.T) {
	boom := errors.New("boom")
	r := lines.NewReader(io.MultiReader(strings.NewReader("one\n"+strings.Repeat("x", 50)), iotest.ErrReader(boom)), 8)
	got, err := readAll(r)
	if !errors.Is(err, boom) || strings.Join(got, "|") != "one|!long" {
		t.Fatalf("got %q, %v; want the lines read before the error, then the error", got, err)
	}
	if !errors.Is(lines.ErrTooLong, lines.ErrSkipped) || !errors.Is(lines.ErrNotUTF8, lines.ErrSkipped) {
		t.Fatal("the skip reasons must wrap ErrSkipped")
	}
}
