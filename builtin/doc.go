// Package builtin is the registry of what botserver knows by name out of
// the box: the built-in adapter kinds (websocket, telegram, slack, matrix,
// console, worker), bots and middleware. It is the only place that names them; the
// server knows them only through the registry. A program that serves its
// own bots starts from it:
//
//	func main() {
//		reg := builtin.Registry()
//		reg.RegisterApp("support", support.New())
//		server.Main(reg, "v1.2.0")
//	}
package builtin
