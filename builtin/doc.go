// Package builtin is the registry of what botserver knows by name out of
// the box: the built-in bots and middleware (and, as each adapter gains a
// factory, the built-in adapters). A program that serves its own bots
// starts from it:
//
//	func main() {
//		reg := builtin.Registry()
//		reg.RegisterApp("support", support.New())
//		server.Main(reg, "v1.2.0")
//	}
package builtin
