package middleware

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/scope"
)

func TestAuthorize(t *testing.T) {
	ctx := context.Background()
	banned := errors.New("banned until Monday")
	mw := Authorize(func(_ context.Context, s *scope.Scope) error {
		if s.User.ID == "13" {
			return banned
		}
		return nil
	})
	a := &app{}
	inst, err := mw(a).NewInstance(ctx, &scope.Scope{User: scope.User{ID: "7"}}, &conn{})
	if err != nil || inst != a.inst {
		t.Fatalf("got %v, %v; want the application's own instance", inst, err)
	}
	a = &app{}
	_, err = mw(a).NewInstance(ctx, &scope.Scope{User: scope.User{ID: "13", Username: "mallory"}}, &conn{})
	if !errors.Is(err, ErrForbidden) || !errors.Is(err, banned) {
		t.Fatalf("err = %v, want it to wrap ErrForbidden and the reason", err)
	}
	if want := `middleware: forbidden: user "13" (@mallory): banned until Monday`; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	if len(a.started) != 0 {
		t.Fatal("the application saw a refused scope")
	}
	mustPanic(t, func() { Authorize(nil) }, "nil function")
}

func TestAllowDenyUsers(t *testing.T) {
	ctx := context.Background()
	allow := AllowUsers("1", "2")
	deny := DenyUsers("3")
	for _, tt := range []struct {
		mw      func(scope.Application) scope.Application
		user    scope.User
		refused string // the error, "" when allowed
	}{
		{allow, scope.User{ID: "1"}, ""},
		{allow, scope.User{ID: "2"}, ""},
		{allow, scope.User{ID: "3"}, `middleware: forbidden: user "3": not an allowed user`},
		{allow, scope.User{}, `middleware: forbidden: anonymous user: not an allowed user`},
		{deny, scope.User{ID: "1"}, ""},
		{deny, scope.User{}, ""},
		{deny, scope.User{ID: "3", Username: "eve"}, `middleware: forbidden: user "3" (@eve): user is denied`},
	} {
		a := &app{}
		_, err := tt.mw(a).NewInstance(ctx, &scope.Scope{User: tt.user}, &conn{})
		switch {
		case tt.refused == "" && (err != nil || len(a.started) != 1):
			t.Errorf("user %+v: err = %v, want the scope started", tt.user, err)
		case tt.refused != "" && (!errors.Is(err, ErrForbidden) || err.Error() != tt.refused || len(a.started) != 0):
			t.Errorf("user %+v: err = %v, want %q", tt.user, err, tt.refused)
		}
	}
	mustPanic(t, func() { AllowUsers("1", "") }, "AllowUsers: empty user ID")
	mustPanic(t, func() { DenyUsers("") }, "DenyUsers: empty user ID")
}

func mustPanic(t *testing.T, f func(), want string) {
	t.Helper()
	defer func() {
		t.Helper()
		v := recover()
		if v == nil || !strings.Contains(fmt.Sprint(v), want) {
			t.Fatalf("panic %v, want one mentioning %q", v, want)
		}
	}()
	f()
}
