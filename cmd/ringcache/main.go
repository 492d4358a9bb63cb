// Command ringcache is the one ringcache binary: node, dev and the client
// commands. Everything lives in internal/app; main only hands it the process.
package main

import (
	"os"

	"github.com/ringcache/ringcache/internal/app"
)

func main() {
	os.Exit(app.Main(app.Env{Args: os.Args[1:], Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, LookupEnv: os.LookupEnv}))
}
