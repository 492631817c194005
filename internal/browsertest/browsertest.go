// Package browsertest runs headless Chromium for the tests of the
// project's pages: the web chat page, the status page, the playground.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Binary finds a Chromium binary ($CHROMIUM, else chromium,
// chromium-browser, google-chrome or headless-shell on the PATH), or
// returns "".
func Binary() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Start starts headless Chromium for the test, with a window of 1400×900,
// and returns its context, which ends after timeout or with the test. It
// skips the test, naming the package to install, when there is no
// Chromium.
func Start(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	bin := Binary()
	if bin == "" {
		t.Skip("SKIPPED: no Chromium found (apt-get install -y chromium, or set CHROMIUM): the page was NOT tested in a browser")
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 900),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true))
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	ctx, cancel := context.WithTimeout(bctx, timeout)
	t.Cleanup(cancel)
	return ctx
}

// Artifacts is where a test keeps what a person may want to look at:
// $SWITCHBOARD_ARTIFACTS if set, else the test's temporary directory.
func Artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SWITCHBOARD_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Screenshot keeps the page as it is now, as name among the test's
// artifacts, and logs where.
func Screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(Artifacts(t), name)
	if err := os.WriteFile(file, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", file)
	return file
}

// Type types text into the input sel with key events and waits until the
// input holds all of it. The key events go through the renderer's input
// queue, so on a loaded machine a click that follows SendKeys at once can
// submit the form before the last keys are in, sending part of the text,
// or nothing.
func Type(sel, text string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		if _, err := chromedp.SendKeys(chromedp.CSS(sel), text)(ctx, t); err != nil {
			return chromedp.Void{}, err
		}
		return chromedp.PollFunction[chromedp.Void](`(sel, want) => document.querySelector(sel)?.value === want`,
			chromedp.WithPollingArgs(sel, text))(ctx, t)
	}
}
