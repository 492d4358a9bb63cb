package transport

import (
	"cmp"
	"fmt"
	"time"

	"github.com/ringcache/ringcache/objpath"
)

// Control messages: Go structs encoded with msgpack. Field tags are short
// and, once released, part of the wire format: add fields, never reuse a tag.

// MemberInfo describes one cluster member.
type MemberInfo struct {
	ID          string  `msgpack:"id"`
	GRPCAddr    string  `msgpack:"grpc"`
	HTTPAddr    string  `msgpack:"http"`
	S3Addr      string  `msgpack:"s3"`
	Zone        string  `msgpack:"zone"`
	State       string  `msgpack:"state"` // joining, active, suspect, leaving, dead, left
	Share       float64 `msgpack:"share"` // fraction of the ring's partitions owned
	BytesCached int64   `msgpack:"bytes"`
	// Self is what the answering node reports about itself, in its own
	// entry only, when MembersRequest.SelfStats asks (nil in the others',
	// and from nodes that predate it).
	Self *NodeStats `msgpack:"self,omitempty"`
}

// NodeStats are one node's own counters and gauges since it started: what
// the status page (GET /v1/status) and `ringcache members` show. Counters
// are those of /metrics (ringcache_cache_hits_total, ...).
type NodeStats struct {
	PagesHit        int64 `msgpack:"hits"`
	PagesMissed     int64 `msgpack:"misses"`
	BytesLocal      int64 `msgpack:"b_local"`
	BytesPeer       int64 `msgpack:"b_peer"`
	BytesUnderstore int64 `msgpack:"b_under"`
	UsedBytes       int64 `msgpack:"used"`
	CapacityBytes   int64 `msgpack:"cap"`
	Pages           int64 `msgpack:"pages"`
	// The shadow cache over ShadowWindow: the working set (bytes of the
	// distinct pages read) and the hit ratio a cache holding all of it
	// would get.
	ShadowWindow          time.Duration `msgpack:"sh_window"`
	ShadowWorkingSetBytes int64         `msgpack:"sh_ws"`
	ShadowHitRatio        float64       `msgpack:"sh_hit"`
}

// MembersRequest asks for the member list.
type MembersRequest struct {
	// SelfStats asks the node to add its NodeStats to its own entry
	// (MemberInfo.Self). It costs the node about a millisecond (the shadow
	// cache reads its filters), so ring polls leave it off.
	SelfStats bool `msgpack:"self,omitempty"`
}

// MembersResponse is the member list and the ring version it makes.
type MembersResponse struct {
	RingVersion uint64       `msgpack:"ring"`
	Members     []MemberInfo `msgpack:"members"`
	// RingMembers and the ring parameters let a client build exactly the
	// node's ring (ring.New(params, RingMembers) has version RingVersion).
	RingMembers       []string `msgpack:"ring_members"`
	Partitions        int      `msgpack:"partitions"`
	Load              float64  `msgpack:"load"`
	PageSize          int64    `msgpack:"page_size"`
	ReplicationFactor int      `msgpack:"vnodes"`
}

// WatchRequest starts a ring watch: the server sends the current members,
// then a MembersResponse on every change.
type WatchRequest struct{}

// StatRequest asks about one file.
type StatRequest struct {
	Path        string `msgpack:"path"`
	RingVersion uint64 `msgpack:"ring"`
	NoForward   bool   `msgpack:"nofwd"`
	// NoPages skips counting the cached pages (CachedBytes, CachedPages
	// stay 0): the S3 gateway's HEAD needs only the metadata.
	NoPages bool `msgpack:"nopages,omitempty"`
}

// StatResponse describes one file as its owner sees it.
type StatResponse struct {
	Path        string    `msgpack:"path"`
	Size        int64     `msgpack:"size"`
	ETag        string    `msgpack:"etag"`
	ModTime     time.Time `msgpack:"mtime"`
	Version     uint64    `msgpack:"version"`
	Owner       string    `msgpack:"owner"`
	CachedBytes int64     `msgpack:"cached_bytes"`
	CachedPages int64     `msgpack:"cached_pages"`
	TotalPages  int64     `msgpack:"total_pages"`
	Pinned      bool      `msgpack:"pinned"`
	Scope       string    `msgpack:"scope"`
	RingVersion uint64    `msgpack:"ring"`
}

// InvalidateRequest drops the cached version of a path or of every path
// under a prefix (exactly one of the two).
type InvalidateRequest struct {
	Path      string `msgpack:"path"`
	Prefix    string `msgpack:"prefix"`
	NoForward bool   `msgpack:"nofwd"`
}

// InvalidateResponse counts the files dropped.
type InvalidateResponse struct {
	Files       int64  `msgpack:"files"`
	RingVersion uint64 `msgpack:"ring"`
}

// LoadRequest warms the cache with a path or every path under a prefix.
type LoadRequest struct {
	Path      string `msgpack:"path"`
	Prefix    string `msgpack:"prefix"`
	Pin       bool   `msgpack:"pin"`
	Scope     string `msgpack:"scope"`
	NoForward bool   `msgpack:"nofwd"`
}

// LoadProgress is streamed while a load runs; the last one has
// FilesDone == FilesTotal. Error names a file that failed (the load goes on).
type LoadProgress struct {
	FilesDone  int64  `msgpack:"files_done"`
	FilesTotal int64  `msgpack:"files_total"`
	BytesDone  int64  `msgpack:"bytes_done"`
	BytesTotal int64  `msgpack:"bytes_total"`
	Path       string `msgpack:"path"`
	Error      string `msgpack:"error"`
}

// PinRequest pins (or unpins) a path or every path under a prefix.
type PinRequest struct {
	Path      string `msgpack:"path"`
	Prefix    string `msgpack:"prefix"`
	Pinned    bool   `msgpack:"pinned"`
	NoForward bool   `msgpack:"nofwd"`
}

// PinResponse counts the files changed.
type PinResponse struct {
	Files int64 `msgpack:"files"`
}

// AffinityRequest asks for the N preferred nodes of each path.
type AffinityRequest struct {
	Paths []string `msgpack:"paths"`
	N     int      `msgpack:"n"`
}

// PathAffinity is the preferred nodes of one path, owner first.
type PathAffinity struct {
	Path  string       `msgpack:"path"`
	Nodes []MemberInfo `msgpack:"nodes"`
}

// AffinityResponse answers AffinityRequest, in the order of its paths.
type AffinityResponse struct {
	RingVersion uint64         `msgpack:"ring"`
	Results     []PathAffinity `msgpack:"results"`
}

// Split is a piece of a file a query engine schedules.
type Split struct {
	Path   string `msgpack:"path"`
	Offset int64  `msgpack:"offset"`
	Length int64  `msgpack:"length"`
}

// AssignRequest places a batch of splits on nodes with bounded loads.
type AssignRequest struct {
	Splits  []Split `msgpack:"splits"`
	MaxLoad float64 `msgpack:"max_load"`
}

// Assignment places split number Split on Node.
type Assignment struct {
	Split         int    `msgpack:"split"`
	Node          string `msgpack:"node"`
	PreferredRank int    `msgpack:"rank"`
}

// AssignResponse answers AssignRequest.
type AssignResponse struct {
	RingVersion uint64         `msgpack:"ring"`
	Assignments []Assignment   `msgpack:"assignments"`
	Load        map[string]int `msgpack:"load"`
}

// MaxAffinityPaths and MaxAssignSplits bound batch requests.
const (
	MaxAffinityPaths = 100_000
	MaxAssignSplits  = 1_000_000
)

// ValidatePath applies the path rules of package objpath (objpath.Validate:
// a file's path, bucket/key). Its errors match both ErrBadRequest and
// objpath.ErrBadPath.
func ValidatePath(p string) error { return badRequest(objpath.Validate(p)) }

// validatePrefix is ValidatePath for prefixes (objpath.ValidatePrefix): a
// trailing '/' is allowed and a bucket alone is enough.
func validatePrefix(p string) error { return badRequest(objpath.ValidatePrefix(p)) }

// badRequest puts ErrBadRequest in the chain of a path error (the gRPC
// server answers it with codes.InvalidArgument).
func badRequest(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrBadRequest, err)
}

func pathOrPrefix(path, prefix string) error {
	switch {
	case path != "" && prefix != "":
		return fmt.Errorf("%w: both path and prefix set", ErrBadRequest)
	case path != "":
		return ValidatePath(path)
	default:
		return validatePrefix(prefix)
	}
}

// Validate checks the request's shape; the node checks the rest.
func (*MembersRequest) Validate() error { return nil }

// Validate checks the request's shape; the node checks the rest.
func (*WatchRequest) Validate() error { return nil }

// Validate checks the request's shape; the node checks the rest.
func (r *StatRequest) Validate() error { return ValidatePath(r.Path) }

// Validate checks the request's shape; the node checks the rest.
// A path may be a directory marker ("bucket/dir/"): writes announce those
// too, so that every gateway drops its listings of the directory.
func (r *InvalidateRequest) Validate() error {
	if r.Path != "" && r.Prefix == "" {
		return ValidateWritePath(r.Path)
	}
	return pathOrPrefix(r.Path, r.Prefix)
}

// Validate checks the request's shape; the node checks the rest.
func (r *LoadRequest) Validate() error {
	if err := objpath.ValidateScope(r.Scope); err != nil {
		return badRequest(err)
	}
	return pathOrPrefix(r.Path, r.Prefix)
}

// Validate checks the request's shape; the node checks the rest.
func (r *PinRequest) Validate() error { return pathOrPrefix(r.Path, r.Prefix) }

// Validate checks the request's shape; the node checks the rest.
func (r *AffinityRequest) Validate() error {
	if len(r.Paths) == 0 || len(r.Paths) > MaxAffinityPaths {
		return fmt.Errorf("%w: %d paths, want 1 to %d", ErrBadRequest, len(r.Paths), MaxAffinityPaths)
	}
	if r.N < 0 || r.N > MaxAffinityNodes {
		return fmt.Errorf("%w: n %d, want 0 (the default) to %d", ErrBadRequest, r.N, MaxAffinityNodes)
	}
	if n := cmp.Or(r.N, DefaultAffinityNodes); len(r.Paths)*n > MaxAffinityResults {
		return fmt.Errorf("%w: %d paths of %d nodes each over the limit of %d results", ErrBadRequest, len(r.Paths), n, MaxAffinityResults)
	}
	for _, p := range r.Paths {
		if err := ValidatePath(p); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks the request's shape; the node checks the rest.
func (r *AssignRequest) Validate() error {
	if len(r.Splits) > MaxAssignSplits {
		return fmt.Errorf("%w: %d splits over the limit of %d", ErrBadRequest, len(r.Splits), MaxAssignSplits)
	}
	if r.MaxLoad < 0 || r.MaxLoad != r.MaxLoad {
		return fmt.Errorf("%w: bad max load %v", ErrBadRequest, r.MaxLoad)
	}
	for i, s := range r.Splits {
		if s.Offset < 0 || s.Length < 0 {
			return fmt.Errorf("%w: split %d has a negative offset or length", ErrBadRequest, i)
		}
		if err := ValidatePath(s.Path); err != nil {
			return fmt.Errorf("split %d: %w", i, err)
		}
	}
	return nil
}
