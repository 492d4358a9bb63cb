//go:build chaos

package chaos

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ringcache/ringcache/understore/s3test"
)

// The gateway-writes scenario: writers PUT (and now and then upload in
// parts) through the nodes' S3 gateways, over HTTPS with the SDK's default
// checksum settings (aws-chunked bodies with a CRC32 trailer), while the
// busiest node is SIGKILLed and started again. Afterwards every key must
// read, through every gateway and straight from the under-store, as one
// whole generation that was written: the last acknowledged one or a later
// one whose write was cut off (its outcome unknown to the writer), never a
// mix, never an older one.
const (
	writeKeys    = 24
	writeWorkers = 3
	// writePartSize is the part size of the multipart writes (S3's least).
	writePartSize = 5 << 20
)

// writeContent is generation gen of key: its first 16 bytes name the key
// and the generation, the rest is seeded noise, so a read tells which
// generation it holds and whether it is whole.
func writeContent(seed uint64, key string, gen uint64, size int) []byte {
	h := fnv.New64a()
	io.WriteString(h, key)
	kh := h.Sum64()
	b := make([]byte, size)
	binary.BigEndian.PutUint64(b[0:8], kh)
	binary.BigEndian.PutUint64(b[8:16], gen)
	r := rand.New(rand.NewPCG(seed^kh, gen))
	for i := 16; i < size; i += 8 {
		v := r.Uint64()
		for k := 0; k < 8 && i+k < size; k++ {
			b[i+k] = byte(v >> (8 * k))
		}
	}
	return b
}

// writeSize is the size of generation gen of key: 16 B to 2 MiB, and every
// seventh generation 11 MiB (a multipart upload of three parts).
func writeSize(seed uint64, key string, gen uint64) int {
	if gen%7 == 3 {
		return 2*writePartSize + 1<<20
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s/%d", seed, key, gen)
	return 16 + int(h.Sum64()%(2<<20))
}

// keyState is what the writers know of one key.
type keyState struct {
	acked     uint64 // last generation whose write was acknowledged
	attempted uint64 // last generation a write was sent for
}

// writerClient is an SDK client of node n's gateway with the SDK's
// defaults (checksums included: aws-chunked bodies over HTTPS), trusting
// the compose CA.
func writerClient(t *testing.T, n node) *s3.Client {
	return s3.New(s3.Options{
		Region:       s3test.Region,
		BaseEndpoint: aws.String(fmt.Sprintf("https://%s:%d", n.ip, gatewayPort)),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
		HTTPClient:   &http.Client{Timeout: 60 * time.Second, Transport: httpsTransport(t, "")},
	})
}

// putGen writes one generation through c: PutObject, or a multipart
// upload for the large sizes.
func putGen(ctx context.Context, c *s3.Client, key string, data []byte) error {
	bucket, k := "lake", strings.TrimPrefix(key, "lake/")
	if len(data) <= writePartSize {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &k, Body: bytes.NewReader(data)})
		return err
	}
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &k})
	if err != nil {
		return err
	}
	var parts []s3types.CompletedPart
	for off, num := 0, int32(1); off < len(data); off, num = off+writePartSize, num+1 {
		end := min(off+writePartSize, len(data))
		p, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bucket, Key: &k, UploadId: up.UploadId,
			PartNumber: aws.Int32(num), Body: bytes.NewReader(data[off:end])})
		if err != nil {
			c.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{Bucket: &bucket, Key: &k, UploadId: up.UploadId})
			return err
		}
		parts = append(parts, s3types.CompletedPart{ETag: p.ETag, PartNumber: aws.Int32(num)})
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &bucket, Key: &k, UploadId: up.UploadId,
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}})
	return err
}

// 9: writes through the gateways while the busiest node is SIGKILLed and
// started again.
func (s *suite) gatewayWrites(t *testing.T, r *result) {
	seed := s.rng.Uint64()
	clients := make([]*s3.Client, len(s.nodes))
	for i, n := range s.nodes {
		clients[i] = writerClient(t, n)
	}
	keys := make([]string, writeKeys)
	state := make([]keyState, writeKeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("lake/chaos/writes/k-%02d.bin", i)
	}
	var mu sync.Mutex // guards state
	var writes, acked, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writeWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for attempt := 0; ; attempt++ {
				select {
				case <-stop:
					return
				default:
				}
				i := w + writeWorkers*rng.IntN(writeKeys/writeWorkers) // this writer's keys only
				mu.Lock()
				state[i].attempted++
				gen := state[i].attempted
				mu.Unlock()
				data := writeContent(seed, keys[i], gen, writeSize(seed, keys[i], gen))
				writes.Add(1)
				// Any gateway answers for any key: on failure the next one.
				var err error
				for try := range len(clients) {
					ctx, cancel := context.WithTimeout(s.ctx, 90*time.Second)
					err = putGen(ctx, clients[(attempt+try)%len(clients)], keys[i], data)
					cancel()
					if err == nil {
						break
					}
				}
				if err != nil {
					failed.Add(1)
					continue
				}
				acked.Add(1)
				mu.Lock()
				state[i].acked = gen
				mu.Unlock()
			}
		}()
	}
	time.Sleep(2 * time.Second) // writes in flight before the kill, on purpose
	victim := s.busiest()
	id := s.container(t, victim)
	s.docker(t, "kill", "-s", "KILL", id)
	detect := poll(t, "ring drops "+victim.service, convergeTimeout, func() bool { return s.converged(s.without(victim)) })
	time.Sleep(2 * time.Second) // writes to the two nodes left, on purpose
	s.docker(t, "start", id)
	r.converge = s.waitConverged(t, "ring takes "+victim.service+" back")
	time.Sleep(2 * time.Second) // writes to the whole cluster again, on purpose
	close(stop)
	wg.Wait()
	if acked.Load() == 0 {
		t.Fatalf("no write was acknowledged (%d failed)", failed.Load())
	}

	// Every key, through every gateway and straight from the under-store.
	raw := s3test.Client(fmt.Sprintf("http://%s:%d", serviceIP(2), s3Port), accessKey, secretKey)
	var wrong, checked int
	for i, key := range keys {
		st := state[i]
		if st.attempted == 0 {
			continue
		}
		readers := map[string]*s3.Client{"versitygw": raw}
		for j, n := range s.nodes {
			readers[n.service] = clients[j]
		}
		for who, c := range readers {
			got, err := getAll(s.ctx, c, key)
			checked++
			if err != nil {
				if st.acked == 0 && isNoSuchKey(err) {
					continue // never acknowledged, and never landed
				}
				wrong++
				t.Errorf("%s via %s: %v (acked gen %d, attempted %d)", key, who, err, st.acked, st.attempted)
				continue
			}
			if msg := checkGen(seed, key, got, st); msg != "" {
				wrong++
				t.Errorf("%s via %s: %s", key, who, msg)
			}
		}
	}
	r.wrong += int64(wrong)
	r.note = fmt.Sprintf("(writes=%d acked=%d failed=%d; %s killed, dropped after %.1fs; %d reads checked, %d wrong)",
		writes.Load(), acked.Load(), failed.Load(), victim.service, detect.Seconds(), checked, wrong)
}

// checkGen says what is wrong with got as key's content ("" if nothing):
// it must be one whole generation in [acked, attempted].
func checkGen(seed uint64, key string, got []byte, st keyState) string {
	if len(got) < 16 {
		return fmt.Sprintf("%d bytes: too short to be any generation", len(got))
	}
	gen := binary.BigEndian.Uint64(got[8:16])
	if gen < max(st.acked, 1) || gen > st.attempted {
		return fmt.Sprintf("generation %d, want one of %d..%d", gen, st.acked, st.attempted)
	}
	want := writeContent(seed, key, gen, writeSize(seed, key, gen))
	if !bytes.Equal(got, want) {
		return fmt.Sprintf("%d bytes are not generation %d whole (%d bytes)", len(got), gen, len(want))
	}
	return ""
}

func getAll(ctx context.Context, c *s3.Client, key string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String(strings.TrimPrefix(key, "lake/"))})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

func isNoSuchKey(err error) bool {
	var nk *s3types.NoSuchKey
	return errors.As(err, &nk)
}
