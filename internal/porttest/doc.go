// Package porttest hands a test the loopback port of a server it starts in
// another process (a botserver, a redis-server), where the test must name
// the port before the server binds it and cannot take it over from a
// listener of its own.
//
// Picking a port by listening on 127.0.0.1:0 and closing the listener
// races twice. Such a port comes from the kernel's ephemeral range
// (32768–60999 on Linux), from which every outgoing connection takes its
// local port: between the close and the server's bind, a connection may
// take it, and a client that dials the port while no server listens may
// even be given it and connect to itself. And nothing stops a second test,
// in the same process or in a parallel test process, from being handed the
// same port before the first server has bound it.
//
// Port takes its ports below the ephemeral range, where the kernel hands
// out none, and reserves each with a lock file that every test process of
// the machine consults, held until the test ends: no two tests hold the
// same port at once, and a port a test holds stays its own across the
// server's restarts.
package porttest
