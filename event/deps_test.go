package event_test

import (
	"errors"
	"go/build"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/event"
)

// The event packages are the bottom of the import graph: they import the
// standard library and the encoding library, nothing of Switchboard.
func TestEventPackagesImportNoOtherSwitchboardPackage(t *testing.T) {
	const module = "github.com/switchboard-bots/switchboard/"
	for _, dir := range []string{".", "websocket", "http"} {
		pkg, err := build.ImportDir(dir, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range pkg.Imports {
			if strings.HasPrefix(imp, module) && imp != module+"event" {
				t.Errorf("event package %q imports %s", dir, imp)
			}
		}
	}
}

func TestErrNoRouteIsWrappable(t *testing.T) {
	err := errors.Join(errors.New("other"), event.ErrNoRoute)
	if !errors.Is(err, event.ErrNoRoute) {
		t.Fatal("errors.Is does not find ErrNoRoute")
	}
}
