// Command peers runs one read-through workload against golang/groupcache,
// olric and ringcache, each as three node processes on loopback, and prints
// one table with ratios (issue 16; docs/BENCHMARKS.md, "Peers: groupcache
// and olric").
//
//	go run . run [flags]    the driver: starts each system's nodes in turn
//	                        and drives them
//	go run . node [flags]   one groupcache or olric node (the driver starts
//	                        these; ringcache runs its own binary)
//
// It is a module of its own (bench/peers/go.mod) so that the main module
// never depends on the peers.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: peers run|node [flags] (-h for flags)")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = runMain(os.Args[2:])
	case "node":
		err = nodeMain(os.Args[2:])
	default:
		err = fmt.Errorf("unknown subcommand %q (want run or node)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(1)
	}
}
