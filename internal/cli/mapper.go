package cli

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/alecthomas/kong"
)

// errMissingValue: the arguments ended where a flag's value should be.
var errMissingValue = errors.New("missing value")

// StrictStrings replaces kong's string mapper with one that refuses a
// missing value: with kong.WithHyphenPrefixedParameters (which ringcache
// needs for "-o -" and "--offset -5"), kong's own mapper takes the end of
// the arguments as an empty string, so `get PATH -o` would write to stdout.
func StrictStrings() kong.Option {
	return kong.KindMapper(reflect.String, kong.MapperFunc(func(ctx *kong.DecodeContext, target reflect.Value) error {
		t, err := ctx.Scan.PopValue("string")
		if err != nil {
			return err
		}
		if t.IsEOL() {
			return errMissingValue
		}
		target.SetString(fmt.Sprint(t.Value))
		return nil
	}))
}
