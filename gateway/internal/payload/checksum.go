package payload

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"strings"
)

// Checksum algorithms of x-amz-checksum-*, by their lower-case names (the
// header is "x-amz-checksum-" + name; Checksums() uses the same names).
const (
	CRC32     = "crc32"
	CRC32C    = "crc32c"
	CRC64NVME = "crc64nvme"
	SHA1      = "sha1"
	SHA256    = "sha256"
)

// checksumPrefix starts every x-amz-checksum-* header and trailer name.
const checksumPrefix = "x-amz-checksum-"

// crc64NVMEPoly is the NVMe CRC-64 polynomial, bit-reversed as
// hash/crc64.MakeTable wants it; aws-sdk-go-v2's checksum package uses
// the same constant.
const crc64NVMEPoly = 0x9a6c9329ac4bc9b5

var (
	crc32cTable    = crc32.MakeTable(crc32.Castagnoli)
	crc64NVMETable = crc64.MakeTable(crc64NVMEPoly)
)

// newHash returns a new hash of algorithm alg, nil for an unknown one.
func newHash(alg string) hash.Hash {
	switch alg {
	case CRC32:
		return crc32.NewIEEE()
	case CRC32C:
		return crc32.New(crc32cTable)
	case CRC64NVME:
		return crc64.New(crc64NVMETable)
	case SHA1:
		return sha1.New()
	case SHA256:
		return sha256.New()
	}
	return nil
}

// digestSize is the size in bytes of alg's digest, 0 for an unknown one.
func digestSize(alg string) int {
	if h := newHash(alg); h != nil {
		return h.Size()
	}
	return 0
}

// checksumAlg returns the algorithm a header or trailer name such as
// "x-amz-checksum-crc32" names (lower-case), or "" if it names none.
func checksumAlg(name string) string {
	alg, ok := strings.CutPrefix(strings.ToLower(name), checksumPrefix)
	if !ok || digestSize(alg) == 0 {
		return ""
	}
	return alg
}

// validChecksum reports whether v is the padded standard base64 of a
// digest of alg, the form S3 sends and accepts.
func validChecksum(alg, v string) bool {
	b, err := base64.StdEncoding.Strict().DecodeString(v)
	return err == nil && len(b) == digestSize(alg)
}

// validMD5 reports whether v is a Content-MD5 value: base64 of 16 bytes.
func validMD5(v string) bool {
	b, err := base64.StdEncoding.Strict().DecodeString(v)
	return err == nil && len(b) == md5.Size
}

// digests hashes the decoded object bytes with every algorithm the
// request asks to be checked, and compares at the end.
type digests struct {
	md5       hash.Hash // nil without Content-MD5
	sha256    hash.Hash // nil unless x-amz-content-sha256 is a hex digest
	checksums map[string]hash.Hash
	all       []hash.Hash // the non-nil ones, for write
}

func newDigests(md5Wanted, sha256Wanted bool, algs []string) *digests {
	d := &digests{checksums: make(map[string]hash.Hash, len(algs))}
	if md5Wanted {
		d.md5 = md5.New()
		d.all = append(d.all, d.md5)
	}
	if sha256Wanted {
		d.sha256 = sha256.New()
		d.all = append(d.all, d.sha256)
	}
	for _, alg := range algs {
		if _, dup := d.checksums[alg]; dup {
			continue
		}
		h := newHash(alg)
		d.checksums[alg] = h
		d.all = append(d.all, h)
	}
	return d
}

func (d *digests) write(p []byte) {
	for _, h := range d.all {
		h.Write(p)
	}
}

// check compares the digests with what the client sent: contentMD5
// (base64), contentSHA256 (hex) and want (algorithm -> base64; every
// algorithm given to newDigests must be in it). It returns the verified
// checksums, algorithm -> base64.
func (d *digests) check(contentMD5, contentSHA256 string, want map[string]string) (map[string]string, error) {
	if d.sha256 != nil {
		w, err := hex.DecodeString(contentSHA256)
		if err != nil || subtle.ConstantTimeCompare(w, d.sha256.Sum(nil)) != 1 {
			return nil, sha256Mismatch()
		}
	}
	if d.md5 != nil {
		w, _ := base64.StdEncoding.DecodeString(contentMD5) // checked by validMD5
		if subtle.ConstantTimeCompare(w, d.md5.Sum(nil)) != 1 {
			return nil, badDigest("the Content-MD5 you specified did not match what we received")
		}
	}
	got := make(map[string]string, len(d.checksums))
	for alg, h := range d.checksums {
		sum := h.Sum(nil)
		v, ok := want[alg]
		w, err := base64.StdEncoding.DecodeString(v)
		if !ok || err != nil || subtle.ConstantTimeCompare(w, sum) != 1 {
			return nil, badDigest("the " + strings.ToUpper(alg) + " you specified did not match the calculated checksum")
		}
		got[alg] = base64.StdEncoding.EncodeToString(sum)
	}
	return got, nil
}
