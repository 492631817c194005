// Package sessiontest is the conformance suite of session stores: a
// backend is done when Run passes with the Features it claims.
//
//	func TestConformance(t *testing.T) {
//		sessiontest.Run(t, func(t *testing.T) session.Store { return memory.New() }, sessiontest.Features{})
//	}
//
// Every case uses keys of its own, so cases run in parallel and against a
// shared server.
package sessiontest
