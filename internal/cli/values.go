package cli

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// value is one flag's typed storage. set parses one textual occurrence
// (command line, env, or a scalar in the file); setYAML takes a file node;
// reset empties a list before a higher-precedence source replaces it.
type value interface {
	set(s string) error
	setYAML(n *yaml.Node) error
	reset()
	// isSwitch: the flag takes no value on the command line.
	isSwitch() bool
	// metavar names the value in the usage text.
	metavar() string
	// String renders the current value for the usage's default.
	String() string
}

// scalarYAML checks that n is a scalar and hands its text to set. Tags
// (YAML's idea of the type) are checked by the callers that care.
func scalarYAML(n *yaml.Node, want string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", invalidf(nil, "want %s, got a %s", want, kindName(n))
	}
	return n.Value, nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "list"
	case yaml.MappingNode:
		return "mapping"
	case yaml.AliasNode:
		return "alias"
	default:
		return strings.TrimPrefix(n.ShortTag(), "!!")
	}
}

type stringValue struct{ p *string }

func (v stringValue) set(s string) error { *v.p = s; return nil }
func (v stringValue) setYAML(n *yaml.Node) error {
	s, err := scalarYAML(n, "a string")
	if err != nil {
		return err
	}
	if n.ShortTag() == "!!null" {
		s = ""
	}
	return v.set(s)
}
func (stringValue) reset()           {}
func (stringValue) isSwitch() bool   { return false }
func (stringValue) metavar() string  { return "STRING" }
func (v stringValue) String() string { return strconv.Quote(*v.p) }

type switchValue struct{ p *bool }

// parseBool accepts strconv.ParseBool's spellings plus yes/no and on/off,
// which people put in env files.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "yes", "on":
		return true, nil
	case "no", "off":
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, invalidf(nil, "invalid boolean %q (want true or false)", s)
	}
	return b, nil
}

func (v switchValue) set(s string) error {
	b, err := parseBool(s)
	if err != nil {
		return err
	}
	*v.p = b
	return nil
}
func (v switchValue) setYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		return invalidf(nil, "want a boolean, got %s", describe(n))
	}
	return v.set(n.Value)
}
func (switchValue) reset()           {}
func (switchValue) isSwitch() bool   { return true }
func (switchValue) metavar() string  { return "" }
func (v switchValue) String() string { return strconv.FormatBool(*v.p) }

// describe renders a YAML node for an error message.
func describe(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return fmt.Sprintf("%s %q", kindName(n), n.Value)
	}
	return "a " + kindName(n)
}

type intValue struct {
	p64  *int64
	p    *int // exactly one of p64 and p is set
	bits int
}

func (v intValue) set(s string) error {
	n, err := strconv.ParseInt(s, 10, v.bits)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return invalidf(ne.Err, "number %q out of range", s)
		}
		return invalidf(nil, "invalid number %q", s)
	}
	if v.p != nil {
		*v.p = int(n)
	} else {
		*v.p64 = n
	}
	return nil
}
func (v intValue) setYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		return invalidf(nil, "want an integer, got %s", describe(n))
	}
	return v.set(n.Value)
}
func (intValue) reset()          {}
func (intValue) isSwitch() bool  { return false }
func (intValue) metavar() string { return "N" }
func (v intValue) String() string {
	if v.p != nil {
		return strconv.Itoa(*v.p)
	}
	return strconv.FormatInt(*v.p64, 10)
}

type floatValue struct{ p *float64 }

func (v floatValue) set(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	// NaN and infinities parse but no flag of ours means them.
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return invalidf(nil, "invalid number %q", s)
	}
	*v.p = f
	return nil
}
func (v floatValue) setYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!float" && n.ShortTag() != "!!int") {
		return invalidf(nil, "want a number, got %s", describe(n))
	}
	return v.set(n.Value)
}
func (floatValue) reset()           {}
func (floatValue) isSwitch() bool   { return false }
func (floatValue) metavar() string  { return "NUMBER" }
func (v floatValue) String() string { return strconv.FormatFloat(*v.p, 'g', -1, 64) }

type sizeValue struct{ p *int64 }

func (v sizeValue) set(s string) error {
	n, reason := parseSize(s)
	if reason != "" {
		return invalidf(ErrInvalidSize, "invalid size %q: %s", s, reason)
	}
	*v.p = n
	return nil
}
func (v sizeValue) setYAML(n *yaml.Node) error {
	// 4096 (an !!int) and 64MiB (a !!str) are both sizes.
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!str" && n.ShortTag() != "!!int") {
		return invalidf(nil, "want a size such as 64MiB, got %s", describe(n))
	}
	return v.set(n.Value)
}
func (sizeValue) reset()           {}
func (sizeValue) isSwitch() bool   { return false }
func (sizeValue) metavar() string  { return "SIZE" }
func (v sizeValue) String() string { return FormatSize(*v.p) }

type durationValue struct{ p *time.Duration }

func (v durationValue) set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return invalidf(nil, "invalid duration %q (want Go syntax such as 30s)", s)
	}
	*v.p = d
	return nil
}
func (v durationValue) setYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		return invalidf(nil, "want a duration such as 30s, got %s", describe(n))
	}
	return v.set(n.Value)
}
func (durationValue) reset()           {}
func (durationValue) isSwitch() bool   { return false }
func (durationValue) metavar() string  { return "DURATION" }
func (v durationValue) String() string { return v.p.String() }

// listValue is both list kinds. On the command line a repeatable list
// (split=false) takes each occurrence as one item, so an item may hold a
// comma; a comma list (split=true) splits each occurrence. In env and the
// file both split comma strings, and the file also takes a YAML sequence.
// Blank items are dropped, so "" is the empty list.
type listValue struct {
	p     *[]string
	split bool
}

func splitComma(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func (v listValue) set(s string) error {
	if v.split {
		*v.p = append(*v.p, splitComma(s)...)
	} else if s = strings.TrimSpace(s); s != "" {
		*v.p = append(*v.p, s)
	}
	return nil
}

// setEnv is set for env values and file strings: always comma-split.
func (v listValue) setEnv(s string) error {
	*v.p = append(*v.p, splitComma(s)...)
	return nil
}

func (v listValue) setYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return nil
		}
		return v.setEnv(n.Value)
	case yaml.SequenceNode:
		for _, item := range n.Content {
			if item.Kind != yaml.ScalarNode || item.ShortTag() == "!!null" {
				return invalidf(nil, "want a list of strings, got an item that is %s", describe(item))
			}
			if s := strings.TrimSpace(item.Value); s != "" {
				*v.p = append(*v.p, s)
			}
		}
		return nil
	}
	return invalidf(nil, "want a list or a comma-separated string, got %s", describe(n))
}
func (v listValue) reset()       { *v.p = nil }
func (listValue) isSwitch() bool { return false }
func (v listValue) metavar() string {
	if v.split {
		return "A,B,..."
	}
	return "VALUE"
}
func (v listValue) String() string { return strings.Join(*v.p, ",") }
