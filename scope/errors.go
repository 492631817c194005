package scope

import "fmt"

// PanicError is a panic recovered from an application, with the stack of
// the goroutine that panicked. The scope manager turns a panic into one, and
// so does the recover middleware, so tests can errors.As it.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Unwrap returns the panic value when it was an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// StartError reports that an application refused a scope or failed to make
// its instance: no route matched, middleware denied the user.
type StartError struct{ Err error }

func (e *StartError) Error() string { return "start instance: " + e.Err.Error() }
func (e *StartError) Unwrap() error { return e.Err }
