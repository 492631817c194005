package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// userHz is the unit of the CPU times in /proc/PID/stat: Linux reports
// them to user space in hundredths of a second whatever its tick rate.
const userHz = 100

// cpuTime returns the user and system time that process pid has used.
func cpuTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, field 2, is in parentheses and may hold spaces:
	// the fields counted are those after its closing one.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	var ticks int64
	for _, field := range f[11:13] { // utime and stime, fields 14 and 15
		n, err := strconv.ParseInt(field, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHz, nil
}

// cpuTimes returns the CPU time processes pids have used together.
func cpuTimes(pids []int) (time.Duration, error) {
	var sum time.Duration
	for _, pid := range pids {
		t, err := cpuTime(pid)
		if err != nil {
			return 0, err
		}
		sum += t
	}
	return sum, nil
}

// metricSum fetches the Prometheus text exposition at url and returns the
// sum of the samples of every metric whose name has prefix, and the names
// it summed.
func metricSum(ctx context.Context, url, prefix string) (float64, []string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	var (
		sum   float64
		names []string
	)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		name, _, _ := strings.Cut(line, "{")
		name, _, _ = strings.Cut(name, " ")
		value := line[strings.LastIndexByte(line, ' ')+1:]
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return 0, nil, fmt.Errorf("%s: sample %q: %w", url, line, err)
		}
		sum += v
		if len(names) == 0 || names[len(names)-1] != name {
			names = append(names, name)
		}
	}
	return sum, names, sc.Err()
}

// lineCounter takes a server process's log: it counts the lines at warn
// level and above, keeps the last, and passes the first few of all on to
// w, so that a flood of lines cannot drown the figures.
type lineCounter struct {
	w       io.Writer
	mu      sync.Mutex
	partial []byte
	passed  int
	warns   int
	last    string
}

// passOn is how many lines of a process's log reach w.
const passOn = 5

func (l *lineCounter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := string(l.partial[:i])
		l.partial = l.partial[i+1:]
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			l.warns++
			l.last = line
		}
		if l.passed < passOn {
			l.passed++
			fmt.Fprintln(l.w, line)
		}
	}
	return len(p), nil
}

// counts returns the lines at warn level and above so far, and the last.
func (l *lineCounter) counts() (int, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.warns, l.last
}
