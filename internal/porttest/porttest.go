package porttest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// The ports handed out: below Linux's ephemeral range (32768–60999 by
// default), above the ports services commonly take.
const (
	lowest  = 20000
	highest = 32000 // exclusive
)

// Addr returns 127.0.0.1:PORT for a port of Port.
func Addr(t testing.TB) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(Port(t)))
}

// Port returns a loopback TCP port that nothing listens on and that no
// other test holds, in this process or another, reserved for the test
// until its cleanups have run: those that stop the servers it started on
// the port, registered after the call, run first.
func Port(t testing.TB) int {
	t.Helper()
	port, release, err := Reserve()
	if err != nil {
		t.Fatalf("porttest: %v", err)
	}
	t.Cleanup(release)
	return port
}

// Reserve returns a port as Port does, for a server that outlives any one
// test (one a whole test process shares), reserved until release is
// called or the process ends. The caller keeps release: the reservation
// is an open file, closed when it is collected.
func Reserve() (port int, release func(), err error) {
	dir := lockDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, nil, err
	}
	// Processes that start their search at different ports seldom try
	// the same one; the lock settles it when they do.
	start := rand.IntN(highest - lowest)
	for i := range highest - lowest {
		port := lowest + (start+i)%(highest-lowest)
		lock, err := reserve(dir, port)
		if err != nil {
			return 0, nil, err
		}
		if lock == nil {
			continue // another test holds it
		}
		if !free(port) {
			_ = lock.Close()
			continue
		}
		return port, func() { _ = lock.Close() }, nil // closing the file drops the lock
	}
	return 0, nil, fmt.Errorf("no free loopback port in [%d, %d)", lowest, highest)
}

// lockDir is the directory of the lock files, one per port, shared by
// every test process of the machine's user.
func lockDir() string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("porttest-%d", os.Getuid()))
}

// reserve locks port's file, returning the open file that holds the lock,
// or nil if another holds it. A lock of flock(2) belongs to the open file:
// it excludes a second open of the same file in this process as well as
// in another, and it is gone when its holder closes the file or dies.
func reserve(dir string, port int) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(port)), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	switch err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); {
	case err == nil:
		return f, nil
	case errors.Is(err, syscall.EWOULDBLOCK):
		_ = f.Close()
		return nil, nil
	default:
		_ = f.Close()
		return nil, fmt.Errorf("lock port %d: %w", port, err)
	}
}

// free reports whether a listener can bind port on loopback now: no
// server of another kind (one that does not know these locks) holds it.
func free(port int) bool {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = ln.Close()
	return true
}
