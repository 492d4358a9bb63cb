package monitoring

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// promtool finds Debian's promtool; CI (CI=true) installs it, elsewhere the
// test is skipped without it.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool not installed (apt-get install prometheus)")
		}
		t.Skip("promtool not installed (apt-get install prometheus)")
	}
	return p
}

// Every dashboard expression parses as PromQL: promtool check rules is the
// parser, over a rule file with one recording rule per expression (with the
// dashboard's variables instantiated as for a query).
func TestDashboardExprsParse(t *testing.T) {
	bin := promtool(t)
	qs := loadDashboard(t).Queries()
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	type group struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	}
	g := group{Name: "dashboard"}
	for i, q := range qs {
		g.Rules = append(g.Rules, rule{Record: fmt.Sprintf("dashboard:expr_%d", i), Expr: Instantiate(q.Expr)})
	}
	file := map[string][]group{"groups": {g}}
	b, err := yaml.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dashboard-exprs.yml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "check", "rules", path).CombinedOutput()
	if err != nil {
		// promtool names the failing rule by index; map it back.
		msg := string(out)
		for i, q := range qs {
			msg = strings.ReplaceAll(msg, fmt.Sprintf("dashboard:expr_%d\"", i), q.Where+"\"")
		}
		t.Fatalf("promtool check rules on the dashboard's %d expressions: %v\n%s", len(qs), err, msg)
	}
	t.Logf("%d dashboard expressions parse", len(qs))
}
