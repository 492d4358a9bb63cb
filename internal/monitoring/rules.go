package monitoring

import (
	"bytes"
	"fmt"
	"os"

	"gopkg.in/yaml.v3"
)

// RuleFile is a Prometheus rule file (the parts these checks read; promtool
// check rules is the full check).
type RuleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []Rule `yaml:"rules"`
	} `yaml:"groups"`
}

// Rule is one alerting or recording rule.
type Rule struct {
	Alert       string            `yaml:"alert"`
	Record      string            `yaml:"record"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// LoadRules reads and strictly decodes a rule file.
func LoadRules(path string) (*RuleFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("monitoring: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var f RuleFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("monitoring: %s: %w", path, err)
	}
	return &f, nil
}

// Queries lists every rule's expression.
func (f *RuleFile) Queries() []Query {
	var qs []Query
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			where := "alert " + r.Alert
			if r.Record != "" {
				where = "record " + r.Record
			}
			qs = append(qs, Query{Where: where, Expr: r.Expr})
		}
	}
	return qs
}
