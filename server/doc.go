// Package server is botserver as a library: it reads a YAML config file,
// builds the channel layer, the routes from protocols, paths and commands
// to bots by name, and the adapters, runs them, and shuts them down in
// order on a signal (intake first, then conversations, then the layer).
//
// Bots, adapter kinds and middleware are Go values registered by name in
// a Registry that the program owns; the config file names them, and the
// server names none of them itself: every adapter, the built-in ones
// included, is a section that the factory registered for its kind decodes,
// run on an adapters.Host. What an adapter needs of the server it asks
// through optional interfaces of package adapters (its protocols, the
// scope settings it requires, a lease on a shared layer, the routes its
// own pages need), so that a new adapter kind needs no change here. Config.Validate checks a file alone; New
// (and Check, which is `botserver check`) also builds every route,
// middleware and adapter and checks them against each other, reporting
// every mistake with its file and line.
//
// A program that serves its own bots registers them beside the built-in
// ones (package builtin) and runs the same command line:
//
//	func main() {
//		reg := builtin.Registry()
//		reg.RegisterApp("support", support.New())
//		server.Main(reg, "v1.2.0")
//	}
package server
