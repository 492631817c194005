package redis

import (
	"strings"
	"testing"
)

func TestValidateNeverPrintsAPassword(t *testing.T) {
	for _, u := range []string{
		"redis://admin:hunter2%zz@127.0.0.1:6379/0",
		"redis://:hunter2@127.0.0.1:bad/0",
		"redis://hunter2@127.0.0.1:6379/x",
		"rediss://admin:hun@ter2@127.0.0.1:6379/0?dial_timeout=zz",
	} {
		err := Config{URL: u}.Validate()
		if err == nil {
			t.Errorf("%s: no error", u)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "ter2") {
			t.Errorf("the password is in the error: %v", err)
		}
		if !strings.Contains(err.Error(), "[redacted]") {
			t.Errorf("the URL is not shown redacted: %v", err)
		}
	}
}
