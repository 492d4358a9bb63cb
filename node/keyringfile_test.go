package node

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestNextKeys(t *testing.T) {
	a, b, c := bytes.Repeat([]byte{1}, 16), bytes.Repeat([]byte{2}, 24), bytes.Repeat([]byte{3}, 32)
	for _, tc := range []struct {
		op   keyOp
		keys [][]byte
		key  []byte
		want [][]byte
		err  error
	}{
		{keyInstall, [][]byte{a}, b, [][]byte{a, b}, nil},
		{keyInstall, [][]byte{a, b}, b, [][]byte{a, b}, nil},
		{keyUse, [][]byte{a, b, c}, c, [][]byte{c, a, b}, nil},
		{keyUse, [][]byte{a, b}, a, [][]byte{a, b}, nil},
		{keyUse, [][]byte{a}, b, nil, ErrKeyNotInstalled},
		{keyRemove, [][]byte{a, b, c}, b, [][]byte{a, c}, nil},
		{keyRemove, [][]byte{a, b}, c, [][]byte{a, b}, nil},
		{keyRemove, [][]byte{a, b}, a, nil, ErrPrimaryKey},
	} {
		got, err := nextKeys(tc.op, tc.keys, tc.key)
		if !errors.Is(err, tc.err) || !slices.EqualFunc(got, tc.want, bytes.Equal) {
			t.Errorf("%s %x on %x = %x, %v; want %x, %v", tc.op, tc.key, tc.keys, got, err, tc.want, tc.err)
		}
	}
}

func TestKeyringFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "keyring.json")
	keys := [][]byte{bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 16)}
	if err := writeKeyring(p, keys); err != nil {
		t.Fatal(err)
	}
	got, err := readKeyring(p)
	if err != nil || !slices.EqualFunc(got, keys, bytes.Equal) {
		t.Fatalf("read back %x, %v", got, err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("keyring file mode %v, %v; want 0600", fi.Mode(), err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("temp files left behind: %v", ents)
	}
	for name, body := range map[string]string{"empty": "[]", "json": "{", "b64": `["!!"]`, "size": `["AAAA"]`} {
		os.WriteFile(p, []byte(body), 0o600)
		if _, err := readKeyring(p); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", name, err)
		}
	}
	if _, err := readKeyring(filepath.Join(dir, "none")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
