package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/alecthomas/kong"
	"github.com/willabides/kongplete"
)

// completionCmd prints the script that hooks a shell's completion up to
// the binary: the shell then runs `ringcache` with COMP_LINE set, and
// completeShell answers from the kong model (commands, flags, enums).
type completionCmd struct {
	Shell string `arg:"" enum:"bash,zsh,fish" help:"bash, zsh or fish. Load it with: source <(ringcache completion bash); fish: ringcache completion fish | source."`
}

// completionScripts are posener/complete's (what kongplete installs),
// with ${bin} the binary's absolute path.
var completionScripts = map[string]string{
	"bash": "complete -o default -C ${bin} ringcache\n",
	"zsh":  "autoload -U +X bashcompinit && bashcompinit\ncomplete -o default -C ${bin} ringcache\n",
	"fish": `function __complete_ringcache
    set -lx COMP_LINE (commandline -cp)
    test -z (commandline -ct)
    and set COMP_LINE "$COMP_LINE "
    ${bin}
end
complete -f -c ringcache -a "(__complete_ringcache)"
`,
}

// Run prints the script.
func (c *completionCmd) Run(env Env) error {
	bin, err := os.Executable()
	if err == nil {
		bin, err = filepath.Abs(bin)
	}
	if err != nil {
		return fmt.Errorf("find this binary: %w", err)
	}
	// Quoted for the shell: the path may hold spaces.
	quoted := "'" + strings.ReplaceAll(bin, "'", `'\''`) + "'"
	_, err = fmt.Fprint(env.Stdout, strings.ReplaceAll(completionScripts[c.Shell], "${bin}", quoted))
	return err
}

// completeShell answers a shell's completion request (COMP_LINE is set)
// and reports whether it did, with the exit code.
func completeShell(env Env, parser *kong.Kong) (code int, done bool) {
	if _, ok := env.LookupEnv("COMP_LINE"); !ok {
		return 0, false
	}
	kongplete.Complete(parser, kongplete.WithExitFunc(func(c int) { code, done = c, true }))
	return code, done
}
