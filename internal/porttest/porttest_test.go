package porttest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"go.uber.org/goleak"
)

// holdEnv makes the test binary a process that holds the lock of one
// port until its standard input closes: another test process.
const holdEnv = "PORTTEST_HOLD"

func TestMain(m *testing.M) {
	if p := os.Getenv(holdEnv); p != "" {
		os.Exit(hold(p))
	}
	goleak.VerifyTestMain(m)
}

func hold(p string) int {
	port, err := strconv.Atoi(p)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	lock, err := reserve(lockDir(), port)
	if err != nil || lock == nil {
		fmt.Fprintln(os.Stderr, "not reserved:", err)
		return 1
	}
	fmt.Println("held")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

func TestPortsAreDistinctFreeAndBelowTheEphemeralRange(t *testing.T) {
	seen := map[int]bool{}
	for range 200 {
		port := Port(t)
		if port < lowest || port >= highest {
			t.Fatalf("port %d outside [%d, %d)", port, lowest, highest)
		}
		if seen[port] {
			t.Fatalf("port %d handed out twice", port)
		}
		seen[port] = true
	}
	for port := range seen { // nothing listens on them: a server can bind each
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			t.Fatal(err)
		}
		ln.Close()
	}
}

func TestAddrIsOnLoopback(t *testing.T) {
	host, port, err := net.SplitHostPort(Addr(t))
	if err != nil || host != "127.0.0.1" || port == "" {
		t.Fatalf("%q, %q, %v", host, port, err)
	}
}

func TestAPortIsHeldUntilTheTestEnds(t *testing.T) {
	var port int
	t.Run("holder", func(t *testing.T) {
		port = Port(t)
		if lock, err := reserve(lockDir(), port); err != nil || lock != nil {
			t.Fatalf("reserved %d a second time in the test that holds it: %v", port, err)
		}
	})
	lock, err := reserve(lockDir(), port)
	if err != nil || lock == nil {
		t.Fatalf("port %d still held after its test ended: %v", port, err)
	}
	lock.Close()
}

func TestAPortAnotherProcessHoldsIsNotReserved(t *testing.T) {
	var port int
	t.Run("pick", func(t *testing.T) { port = Port(t) }) // and let go

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", holdEnv, port))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(stdout).ReadString('\n'); line != "held\n" {
		stdin.Close()
		_ = cmd.Wait()
		t.Fatalf("the other process: %q, %v", line, err)
	}
	if lock, err := reserve(lockDir(), port); err != nil || lock != nil {
		t.Errorf("reserved %d while another process holds it: %v", port, err)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	lock, err := reserve(lockDir(), port)
	if err != nil || lock == nil {
		t.Fatalf("port %d not free after the other process ended: %v", port, err)
	}
	lock.Close()
}
